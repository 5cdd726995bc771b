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
        let bodyIsJSON = isJSON(request)
        if bodyIsJSON {
            // The records name their partitions; a `?partition=` is still range-checked.
            _ = try Self.queryPartition(request)
            records = try RecordJSON.parseProduceBody(body)
        } else {
            records = [try rawRecord(request, body: body)]
        }
        let topic = try await topicCreatingIfNeeded(name, for: request)

        guard let idempotencyKey else {
            return json(try await append(records, to: topic))
        }
        let query = request.uri.queryParameters
        let idempotent = IdempotentRequest(
            caller: try await caller(request), topic: name, key: idempotencyKey, isJSON: bodyIsJSON,
            rawParameters: bodyIsJSON ? [] : [query["key"], query["type"], query["partition"]], body: body)
        switch await server.idempotency.claim(idempotent.cacheKey, fingerprint: idempotent.fingerprint) {
        case .answered(let answer):
            return json(answer)
        case .conflict:
            throw Self.keyReused(idempotencyKey, topic: name)
        case .claimed:
            do {
                let answer = try await append(records, to: topic, idempotent: idempotent)
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
        let key = query["key"].map { Array($0.utf8) }
        return ProduceRecord(record: Record(key: key, value: body, headers: headers), partition: try Self.queryPartition(request))
    }

    /// `?partition=`, range-checked, or `nil` when absent.
    private static func queryPartition(_ request: Request) throws -> Int? {
        guard let text = request.uri.queryParameters["partition"] else { return nil }
        guard let number = ClientNumber.parse(text, in: ClientNumber.partitions) else {
            throw APIError(.invalidPartition, "partition must be a non-negative integer, not \(text).")
        }
        return Int(number)
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
    func append(_ records: [ProduceRecord], to topic: Topic, idempotent: IdempotentRequest? = nil) async throws -> [UInt8] {
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
                if roundRobin == nil {
                    roundRobin = idempotent.map { Int(UInt64(bitPattern: $0.producerID) % UInt64(partitionCount)) }
                        ?? topic.nextRoundRobinPartition()
                }
                index = roundRobin!
            }
            assignment.append(index)
        }

        var byPartition: [Int: [Int]] = [:]
        for (position, index) in assignment.enumerated() { byPartition[index, default: []].append(position) }

        let alreadyWritten = try idempotent.map { try Self.sharesAlreadyWritten(byPartition, of: $0, in: topic) } ?? []
        let stamp = idempotent?.stamp
        let health = server.writeHealth  // `/healthz` reports appends failing for disk reasons
        let appended: [Int: OffsetRange]
        do {
            appended = try await withThrowingTaskGroup(of: (Int, OffsetRange).self) { group in
                for (index, positions) in byPartition {
                    let partition = try topic.partition(index)
                    let batch = positions.map { records[$0].record }
                    group.addTask {
                        (index, try await health.track(topic: topic.name, partition: index) { try await partition.append(batch, producer: stamp) })
                    }
                }
                var ranges: [Int: OffsetRange] = [:]
                for try await (index, range) in group { ranges[index] = range }
                return ranges
            }
        } catch let error as LogError where idempotent != nil && (error.code == .outOfOrderSequence || error.code == .staleProducerEpoch) {
            // Only another body under the same key makes the engine refuse our stamp.
            throw Self.keyReused(idempotent!.cacheKey.key, topic: topic.name)
        }

        var count = 0
        var bytes = 0
        for (produced, index) in zip(records, assignment) where !alreadyWritten.contains(index) {
            count += 1
            bytes += (produced.record.key?.count ?? 0) + (produced.record.value?.count ?? 0)
        }
        if count > 0 { server.metrics.recordAppend(topic: topic.name, records: count, bytes: bytes) }

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
