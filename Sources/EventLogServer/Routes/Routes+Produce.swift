import EventLog
import HTTPTypes
import Hummingbird
import NIOCore

extension Routes {
    /// `POST /v1/topics/{topic}/records`: a JSON batch, or a raw body as one record's value.
    func addProduceRoutes(to router: Router<Context>) {
        router.post("/v1/topics/:topic/records") { request, context in try await produce(request, context) }
    }

    /// One produce: the caller's grant is the middleware's (found once per request), the body
    /// stays in the buffer it arrived in (records point into it), and the answer is made from
    /// the typed result here, at the edge.
    private func produce(_ request: Request, _ context: Context) async throws -> Response {
        let name = try await topicName(request, context, for: .write)
        let idempotencyKey = try Self.idempotencyKey(request)
        let body = try await collectBody(request)
        let bodyIsJSON = isJSON(request)
        // `?partition=` is range-checked for JSON bodies too (their records name their partitions).
        let parameters = try RawProduceParameters(request)
        let raw = bodyIsJSON ? nil : parameters
        let records = try raw.map { [$0.record(value: body)] } ?? RecordJSON.parseProduceBody(body)
        let topic = try await topicCreatingIfNeeded(name, for: request)

        guard let idempotencyKey else {
            return json(try await append(records, to: topic).json())
        }
        let idempotent = IdempotentRequest(
            caller: try await grant(request).caller, topic: name, key: idempotencyKey, isJSON: bodyIsJSON,
            rawParameters: raw?.fingerprinted ?? [], body: body)
        switch await server.idempotency.claim(idempotent.cacheKey, fingerprint: idempotent.fingerprint) {
        case .answered(let answer):
            return json(answer)
        case .conflict:
            throw Self.keyReused(idempotencyKey, topic: name)
        case .claimed:
            do {
                let answer = try await append(records, to: topic, idempotent: idempotent).json()
                server.idempotency.complete(idempotent.cacheKey, answer: answer)
                return json(answer)
            } catch {
                server.idempotency.abandon(idempotent.cacheKey)
                throw error
            }
        }
    }

    /// `409 idempotency_key_reused`: the key came before with another request.
    private static func keyReused(_ key: String, topic: String) -> APIError {
        APIError(.idempotencyKeyReused,
                 "Idempotency-Key \(key) was already used on topic \(topic) with another request body; use a new key for a new request.")
    }

    /// `Idempotency-Key`: 1 to 200 visible ASCII characters, or absent.
    private static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[idempotencyKeyField] else { return nil }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(.invalidIdempotencyKey, "Idempotency-Key must be 1 to 200 visible ASCII characters.")
        }
        return key
    }

    /// Routes each record to its partition and appends each partition's share atomically.
    ///
    /// Explicit partition first, else the key's hash, else one partition for all of the
    /// request's keyless records: the next round-robin one, or for an `idempotent` request one
    /// its producer id picks (so that a retry routes exactly as the first attempt did). Every
    /// partition is checked before anything is appended. Returns the `{"offsets": [...]}`
    /// answer, in the request's order.
    ///
    /// An `idempotent` request's shares are appended with its producer stamp: a share a
    /// partition already holds answers with its original offsets and is not written again.
    /// When a partition holds a batch of that producer that this request would not write (the
    /// key came with another body), nothing is appended: `409 idempotency_key_reused`.
    func append(_ records: [ProduceRecord], to topic: Topic, idempotent: IdempotentRequest? = nil) async throws -> ProduceAnswer {
        // Internal topics (consumer group commits) refuse clients' writes in the engine
        // (`LogError.internalTopic`, answered 403).
        let assignment = try partitions(of: records, in: topic, idempotent: idempotent)
        var byPartition: [Int: [Int]] = [:]
        for (position, index) in assignment.enumerated() { byPartition[index, default: []].append(position) }

        let alreadyWritten = try idempotent.map { try Self.sharesAlreadyWritten(byPartition, of: $0, in: topic) } ?? []
        let stamp = idempotent?.stamp
        let health = server.writeHealth  // `/healthz` reports appends failing for disk reasons
        @Sendable func appendShare(_ index: Int, _ batch: [Record]) async throws -> OffsetRange {
            let partition = topic.partitions[index]  // checked above
            return try await health.track(topic: topic.name, partition: index) { try await partition.append(batch, producer: stamp) }
        }
        var appended: [Int: OffsetRange] = [:]
        do {
            if byPartition.count == 1, let (index, positions) = byPartition.first {
                // One partition (the usual request): appended on this task, no task group.
                appended[index] = try await appendShare(index, positions.map { records[$0].record })
            } else {
                appended = try await withThrowingTaskGroup(of: (Int, OffsetRange).self) { group in
                    for (index, positions) in byPartition {
                        let batch = positions.map { records[$0].record }
                        group.addTask { (index, try await appendShare(index, batch)) }
                    }
                    var ranges: [Int: OffsetRange] = [:]
                    for try await (index, range) in group { ranges[index] = range }
                    return ranges
                }
            }
        } catch let error as LogError where idempotent != nil && (error.code == .outOfOrderSequence || error.code == .staleProducerEpoch) {
            // Only another body under the same key makes the engine refuse our stamp.
            throw Self.keyReused(idempotent!.cacheKey.key, topic: topic.name)
        }

        countAppended(zip(records, assignment).lazy.filter { !alreadyWritten.contains($0.1) }.map(\.0), topic: topic.name)

        var nextInPartition: [Int: Int64] = appended.mapValues { $0.first.rawValue }
        var answer = ProduceAnswer()
        answer.offsets.reserveCapacity(assignment.count)
        for index in assignment {
            let offset = nextInPartition[index]!
            nextInPartition[index] = offset + 1
            answer.offsets.append(ProduceAnswer.Placement(partition: index, offset: Offset(offset)))
        }
        return answer
    }

    /// Each record's partition, in the request's order: the one it names, else its key's
    /// hash, else one partition for all of the request's keyless records (the next round-robin
    /// one, or for an `idempotent` request one its producer id picks, so that a retry routes
    /// exactly as the first attempt did). `404 partition_not_found` for a partition the topic lacks.
    func partitions(of records: [ProduceRecord], in topic: Topic, idempotent: IdempotentRequest?) throws -> [Int] {
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
                index = topic.partitionIndex(forKey: key)  // the library's partitioner (as `Topic.append`), on the bytes in place
            } else {
                if roundRobin == nil {
                    roundRobin = idempotent.map { Int(UInt64(bitPattern: $0.producerID) % UInt64(partitionCount)) }
                        ?? topic.nextRoundRobinPartition()
                }
                index = roundRobin!
            }
            assignment.append(index)
        }
        return assignment
    }

    /// Counts appended records and their key and value bytes in the topic's metrics.
    func countAppended(_ records: some Sequence<ProduceRecord>, topic: String) {
        var count = 0
        var bytes = 0
        for produced in records {
            count += 1
            bytes += (produced.record.key?.count ?? 0) + (produced.record.value?.count ?? 0)
        }
        if count > 0 { server.metrics.recordAppend(topic: topic, records: count, bytes: bytes) }
    }

    /// The partitions that already hold their share of `request` (a retry), from what each
    /// partition of the topic remembers of the request's producer. Throws
    /// `409 idempotency_key_reused`, before anything is appended, when a partition holds a
    /// batch of that producer that is not its share of this request: the key came with another body.
    private static func sharesAlreadyWritten(_ byPartition: [Int: [Int]], of request: IdempotentRequest, in topic: Topic) throws -> Set<Int> {
        var written: Set<Int> = []
        for partition in topic.partitions {
            guard let known = partition.producerBatches(request.producerID) else { continue }
            let share = byPartition[partition.index]?.count
            guard known.epoch == 0, let share, known.batches.contains(where: { $0.firstSequence == request.baseSequence && $0.count == share }) else {
                throw keyReused(request.cacheKey.key, topic: topic.name)
            }
            written.insert(partition.index)
        }
        return written
    }
}

/// Where the records of a produce went, in the request's order: the typed result that the
/// HTTP and WebSocket routes each turn into their JSON.
struct ProduceAnswer: Sendable, Equatable {
    /// One record's place.
    struct Placement: Sendable, Equatable {
        var partition: Int
        var offset: Offset
    }

    var offsets: [Placement] = []

    init() {}

    /// Records appended as one batch to one partition, in the request's order.
    init(partition: Int, range: OffsetRange) {
        offsets = (range.first.rawValue..<range.end.rawValue).map { Placement(partition: partition, offset: Offset($0)) }
    }

    /// Writes the `"offsets"` member into an object the caller opened.
    func writeOffsets(to json: inout JSONWriter) {
        json.key("offsets")
        json.beginArray()
        for placement in offsets {
            json.beginObject()
            json.key("partition"); json.int(placement.partition)
            json.key("offset"); json.int(placement.offset.rawValue)
            json.endObject()
        }
        json.endArray()
    }

    /// The answer for records appended as one batch to one partition, written into `buffer`
    /// as ``json()`` writes it, without making the placements (the produce shortcut's).
    static func writeJSON(partition: Int, range: OffsetRange, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"offsets":["#)
        for offset in range.first.rawValue..<range.end.rawValue {
            buffer.writeStaticString(offset == range.first.rawValue ? #"{"partition":"# : #",{"partition":"#)
            buffer.writeDecimal(Int64(partition))
            buffer.writeStaticString(#","offset":"#)
            buffer.writeDecimal(offset)
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("]}")
    }

    /// The HTTP answer: `{"offsets": [{"partition", "offset"}, ...]}`.
    func json() -> [UInt8] {
        var out = JSONWriter(reservingCapacity: 32 * offsets.count + 16)
        out.beginObject()
        writeOffsets(to: &out)
        out.endObject()
        return out.bytes
    }
}

/// The query parameters of a raw produce (a body that is one record's value): `key`, `type`
/// and `partition`, with their bytes exactly as percent-encoded (Hummingbird's decoded query
/// parameters replace bytes that are not UTF-8).
struct RawProduceParameters {
    var key: [UInt8]?
    var type: [UInt8]?
    var partition: Int?
    /// The three parameters as given (absent: `nil`), for an idempotent request's fingerprint.
    var fingerprinted: [[UInt8]?] { [key, type, partitionText] }
    private var partitionText: [UInt8]?

    /// No parameters: the record is the value alone.
    init() {}

    init(_ request: Request) throws {
        for pair in (request.uri.query ?? "").utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            let name = pair.prefix { $0 != UInt8(ascii: "=") }
            let rawValue = pair.dropFirst(name.count + 1)
            let field: WritableKeyPath<RawProduceParameters, [UInt8]?>
            switch String(decoding: name, as: UTF8.self) {
            case "key": field = \.key
            case "type": field = \.type
            case "partition": field = \.partitionText
            default: continue
            }
            // A malformed escape is kept as written, as Hummingbird's own lookup does; the last
            // occurrence counts, as there.
            self[keyPath: field] = percentDecodedBytes(rawValue) ?? Array(rawValue)
        }
        if let text = partitionText {
            guard let number = ClientNumber.parse(String(decoding: text, as: UTF8.self), in: ClientNumber.partitions) else {
                throw APIError(.invalidPartition, "partition must be a non-negative integer, not \(String(decoding: text, as: UTF8.self)).")
            }
            partition = Int(number)
        }
    }

    /// The record: `body` (in its buffer, not copied) as the value, with the key and `type` header.
    func record(value body: ByteBuffer) -> ProduceRecord {
        let value = body.withUnsafeReadableBytesWithStorageManagement { raw, storage in
            RecordBytes(unsafeBytes: raw, owner: storage.takeUnretainedValue())
        }
        var headers = RecordHeaders()
        if let type { headers.append(name: "type", value: type) }
        return ProduceRecord(record: Record(key: key, value: value, headers: headers), partition: partition)
    }
}
