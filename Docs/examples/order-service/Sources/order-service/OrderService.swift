import EventLog
import Logging

/// `order-service DATA-DIR PLACE`: places PLACE orders (customer and amount, keyed by customer,
/// so each customer's orders stay in order on one partition), then runs the projection until it
/// has caught up, and prints each customer's total.
///
/// The projection is a consumer group (`projection`) over `orders`. For every batch it writes
/// each touched customer's new total to the compacted topic `customer-totals` (key = customer,
/// header `through` = the orders offset the total includes), then commits the batch. Run it
/// again: it starts at its commit, and rebuilds the totals from `customer-totals`, skipping an
/// order it already counted (a crash between the totals and the commit re-delivers the batch;
/// the `through` header makes that harmless).
@main
struct OrderService {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count == 2, let place = Int(arguments.last!), place >= 0 else {
            print("usage: order-service DATA-DIR ORDERS-TO-PLACE")
            return
        }
        var logger = Logger(label: "order-service")
        logger.logLevel = .warning
        let store = try await LogStore.open(at: String(arguments.first!), logger: logger)
        let orders = try await store.topic(named: "orders", creatingWith: TopicConfiguration(partitions: 3, compression: .lz4))
        let totals = try await store.topic(
            named: "customer-totals", creatingWith: TopicConfiguration(partitions: 1, cleanupPolicy: .compact))

        // Place the orders: 10 customers, amounts in cents.
        let placedBefore = orders.partitions.reduce(0) { $0 + Int($1.endOffset.rawValue) }
        let batch = (0..<place).map { n -> Record in
            let number = placedBefore + n
            return Record(key: "customer-\(number % 10)", value: "\(100 + number % 900)", headers: ["type": "order.placed"])
        }
        for start in stride(from: 0, to: batch.count, by: 500) {
            _ = try await orders.append(Array(batch[start..<min(start + 500, batch.count)]))
        }

        // The projection's state, as the compacted topic last recorded it.
        var state = try await ProjectionState(reading: totals)
        let groups = try await GroupCoordinator.open(store: store, logger: logger)
        let consumer = try await GroupConsumer.join("projection", topics: ["orders"], coordinator: groups)
        var counted = 0
        // Caught up once every partition's position reaches the end it has now.
        var behind = Set<Int>()
        for partition in orders.partitions {
            let committed = await groups.committedOffset(for: "projection", TopicPartition("orders", partition.index))?.offset ?? Offset(0)
            if committed < partition.endOffset { behind.insert(partition.index) }
        }
        let end = Dictionary(uniqueKeysWithValues: orders.partitions.map { ($0.index, $0.endOffset) })
        if !behind.isEmpty {
            for try await batch in consumer.batches() {
                let partition = batch.topicPartition.partition
                var changed: Set<String> = []
                for record in batch.records where state.counts(record, partition: partition) {
                    counted += 1
                    changed.insert(String(decoding: record.key!, as: UTF8.self))
                }
                // Totals first, then (when the loop asks for the next batch, or on leave) the commit.
                if !changed.isEmpty { _ = try await totals.append(changed.sorted().map { state.record(for: $0) }) }
                if batch.nextOffset >= end[partition]! { behind.remove(partition) }
                if behind.isEmpty { break }
            }
        }
        try await consumer.leave()

        print("placed \(place) orders; the projection counted \(counted) new ones")
        for customer in state.totals.keys.sorted() {
            print("\(customer)\t\(state.totals[customer]!)")
        }
        await groups.close()
        try await store.close()
    }
}

/// Each customer's total, and through which order (partition and offset) it counts.
struct ProjectionState {
    var totals: [String: Int] = [:]
    /// Per customer, per orders partition, the last offset counted.
    var through: [String: [Int: Int64]] = [:]

    /// The state the compacted topic holds: its latest record per customer.
    init(reading topic: Topic) async throws {
        let partition = topic.partitions[0]
        var offset = partition.startOffset
        while offset < partition.endOffset {
            let read = try await partition.read(from: offset, maxRecords: 1_000)
            for record in read.records {
                let customer = String(decoding: record.key!, as: UTF8.self)
                totals[customer] = Int(String(decoding: record.value!, as: UTF8.self))
                through[customer] = Self.parse(record.headers["through"].map { String(decoding: $0, as: UTF8.self) } ?? "")
            }
            offset = read.nextOffset
        }
    }

    /// Counts an order unless its total already includes it; `true` when it counted.
    mutating func counts(_ order: StoredRecord, partition: Int) -> Bool {
        let customer = String(decoding: order.key!, as: UTF8.self)
        if let done = through[customer]?[partition], order.offset.rawValue <= done { return false }
        totals[customer, default: 0] += Int(String(decoding: order.value!, as: UTF8.self))!
        through[customer, default: [:]][partition] = order.offset.rawValue
        return true
    }

    /// The record that stores `customer`'s total now.
    func record(for customer: String) -> Record {
        let marks = (through[customer] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        return Record(key: customer, value: String(totals[customer] ?? 0), headers: ["through": RecordBytes(marks)])
    }

    private static func parse(_ text: String) -> [Int: Int64] {
        var marks: [Int: Int64] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":")
            if parts.count == 2, let p = Int(parts[0]), let o = Int64(parts[1]) { marks[p] = o }
        }
        return marks
    }
}
