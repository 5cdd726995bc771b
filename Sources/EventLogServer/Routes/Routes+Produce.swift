import EventLog
import HTTPTypes
import Hummingbird

extension Routes {
    /// `POST /v1/topics/{topic}/records`: a JSON batch, or a raw body as one record's value.
    func addProduceRoutes(to router: Router<Context>) {
        router.post("/v1/topics/:topic/records") { request, context in try await produce(request, context) }
    }

    private func produce(_ request: Request, _ context: Context) async throws -> Response {
        let name = try await topicName(request, context, for: .write)
        let idempotencyKey = try Self.idempotencyKey(request)
        let body = try await collectBody(request)
        let records: [ProduceRecord]
        if isJSON(request) {
            records = try RecordJSON.parseProduceBody(body)
        } else {
            records = [try rawRecord(request, body: body)]
        }
        let topic = try await topicCreatingIfNeeded(name)

        guard let idempotencyKey else {
            return json(try await append(records, to: topic))
        }
        switch await server.idempotency.claim(topic: name, key: idempotencyKey) {
        case .answered(let answer):
            return json(answer)
        case .claimed:
            do {
                let answer = try await append(records, to: topic)
                server.idempotency.complete(topic: name, key: idempotencyKey, answer: answer)
                return json(answer)
            } catch {
                server.idempotency.abandon(topic: name, key: idempotencyKey)
                throw error
            }
        }
    }

    /// `Idempotency-Key`: 1 to 200 visible ASCII characters, or absent.
    private static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(.invalidIdempotencyKey, "Idempotency-Key must be 1 to 200 visible ASCII characters.")
        }
        return key
    }

    /// A raw body is one record's value; `?key=`, `?type=` and `?partition=` set the rest.
    private func rawRecord(_ request: Request, body: [UInt8]) throws -> ProduceRecord {
        let query = request.uri.queryParameters
        var headers: [Header] = []
        if let type = query["type"] { headers.append(Header(name: "type", value: String(type))) }
        var partition: Int?
        if let text = query["partition"] {
            guard let number = ClientNumber.parse(text, in: ClientNumber.partitions) else {
                throw APIError(.invalidPartition, "partition must be a non-negative integer, not \(text).")
            }
            partition = Int(number)
        }
        let key = query["key"].map { Array($0.utf8) }
        return ProduceRecord(record: Record(key: key, value: body, headers: headers), partition: partition)
    }

    /// Routes each record to its partition and appends each partition's share atomically.
    ///
    /// Explicit partition first, else the key's hash, else one round-robin partition for all of
    /// the request's keyless records. Every partition is checked before anything is appended.
    /// Returns the `{"offsets": [...]}` answer, in the request's order.
    func append(_ records: [ProduceRecord], to topic: Topic) async throws -> [UInt8] {
        // Internal topics (consumer group commits) are written by the server only.
        guard !topic.configuration.isInternal else { throw APIError(.forbidden, "Topic \(topic.name) is internal: clients cannot write to it.") }
        let partitionCount = topic.partitions.count
        var roundRobin: Int?
        var assignment: [Int] = []
        assignment.reserveCapacity(records.count)
        for produced in records {
            let index: Int
            if let partition = produced.partition {
                guard partition < partitionCount else {
                    throw APIError(.partitionNotFound, "Topic \(topic.name) has no partition \(partition) (it has \(partitionCount)).")
                }
                index = partition
            } else if let key = produced.record.key {
                index = topic.partitionIndex(forKey: key)
            } else {
                if roundRobin == nil { roundRobin = topic.nextRoundRobinPartition() }
                index = roundRobin!
            }
            assignment.append(index)
        }

        var byPartition: [Int: [Int]] = [:]
        for (position, index) in assignment.enumerated() { byPartition[index, default: []].append(position) }

        let health = server.writeHealth  // `/healthz` reports appends failing for disk reasons
        let appended: [Int: OffsetRange] = try await withThrowingTaskGroup(of: (Int, OffsetRange).self) { group in
            for (index, positions) in byPartition {
                let partition = try topic.partition(index)
                let batch = positions.map { records[$0].record }
                group.addTask { (index, try await health.track(topic: topic.name, partition: index) { try await partition.append(batch) }) }
            }
            var ranges: [Int: OffsetRange] = [:]
            for try await (index, range) in group { ranges[index] = range }
            return ranges
        }

        var bytes = 0
        for produced in records { bytes += (produced.record.key?.count ?? 0) + (produced.record.value?.count ?? 0) }
        server.metrics.recordAppend(topic: topic.name, records: records.count, bytes: bytes)

        var nextInPartition: [Int: Int64] = appended.mapValues { $0.first.rawValue }
        var out = JSONWriter()
        out.objectWithArray("offsets") { out in
            for index in assignment {
                let offset = nextInPartition[index]!
                nextInPartition[index] = offset + 1
                out.beginObject()
                out.key("partition"); out.int(index)
                out.key("offset"); out.int(offset)
                out.endObject()
            }
        }
        return out.bytes
    }
}
