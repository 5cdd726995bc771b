import EventLog
import Hummingbird

extension Routes {
    /// `GET /v1/topics/{topic}/records?partition=&offset=&limit=&wait_ms=&reset=`: fetch and long-poll.
    func addFetchRoutes(to router: Router<Context>) {
        router.get("/v1/topics/:topic/records") { request, context in try await fetch(request, context) }
    }

    /// Where a fetch starts.
    enum FetchOffset: Equatable {
        case earliest, latest
        case offset(Int64)
        /// The first record at or after this time (ms since the epoch), by the time index.
        case time(Int64)
    }

    /// Parses `earliest`, `latest`, a non-negative 64-bit integer in decimal digits, or
    /// `time:` and a time in milliseconds since the epoch or ISO 8601 (``parseTime(_:)``).
    static func parseFetchOffset(_ text: Substring?) -> FetchOffset? {
        guard let text else { return .earliest }
        switch text {
        case "earliest": return .earliest
        case "latest": return .latest
        default:
            if text.hasPrefix("time:") {
                return parseTime(String(text.dropFirst(5))).map { .time($0) }
            }
            guard let value = ClientNumber.parse(text, in: ClientNumber.offsets) else { return nil }
            return .offset(value)
        }
    }

    /// Parses an integer query parameter within `range`, or its default when absent.
    static func integerParameter(_ text: Substring?, default defaultValue: Int, in range: ClosedRange<Int>) -> Int? {
        guard let text else { return defaultValue }
        return ClientNumber.parse(text, in: range)
    }

    private func fetch(_ request: Request, _ context: Context) async throws -> Response {
        let name = try await topicName(request, context, for: .read)
        let query = request.uri.queryParameters
        guard let partitionIndex = Self.integerParameter(query["partition"], default: 0, in: 0...Int(ClientNumber.partitions.upperBound)) else {
            throw APIError(.invalidPartition, "partition must be a non-negative integer.")
        }
        guard let requested = Self.parseFetchOffset(query["offset"]) else {
            throw APIError(.invalidOffset, "offset must be a non-negative 64-bit integer, earliest, latest or time:<ms or ISO 8601>.")
        }
        guard let limit = Self.integerParameter(query["limit"], default: 100, in: 1...RecordJSON.maxRecordsPerRequest) else {
            throw APIError(.invalidLimit, "limit must be an integer from 1 to \(RecordJSON.maxRecordsPerRequest).")
        }
        guard let waitMs = Self.integerParameter(query["wait_ms"], default: 0, in: 0...300_000) else {
            throw APIError(.invalidWait, "wait_ms must be an integer from 0 to 300000.")
        }
        let resetToEarliest: Bool
        switch query["reset"] {
        case nil, "earliest": resetToEarliest = true
        case "none": resetToEarliest = false
        default: throw APIError(.invalidReset, "reset must be earliest or none.")
        }

        let partition = try store.partition(TopicPartition(name, partitionIndex))

        var offset: Offset
        var gap: FetchGap?
        switch requested {
        case .earliest: offset = partition.startOffset
        case .latest: offset = partition.endOffset
        case .offset(let value): offset = Offset(value)
        case .time(let milliseconds): offset = try await partition.offset(forTimestamp: milliseconds)
        }
        var result = try await readOrResolve(partition, from: &offset, gap: &gap, resetToEarliest: resetToEarliest, limit: limit)
        if result.records.isEmpty, waitMs > 0 {
            let position = offset
            let woke = await server.lifecycle.unlessStopping {
                await partition.waitForRecords(at: position, timeout: .milliseconds(waitMs))
            }
            if woke == true {
                result = try await readOrResolve(partition, from: &offset, gap: &gap, resetToEarliest: resetToEarliest, limit: limit)
            }
        }

        var out = JSONWriter(reservingCapacity: 128 * result.records.count + 64)
        out.beginObject()
        out.key("records")
        out.beginArray()
        for record in result.records { RecordJSON.write(record, partition: partitionIndex, to: &out) }
        out.endArray()
        out.key("next_offset"); out.int(result.records.isEmpty ? offset.rawValue : result.nextOffset.rawValue)
        if let gap {
            out.key("gap")
            out.beginObject()
            out.key("requested"); out.int(gap.requested)
            out.key("resumed_from"); out.int(gap.resumedFrom)
            if gap.damaged { out.key("reason"); out.string("damaged") }
            out.endObject()
        }
        out.endObject()
        return json(out.bytes)
    }

    /// Offsets a fetch skipped: deleted by retention (below the start), or `damaged` stored data.
    struct FetchGap {
        var requested: Int64
        var resumedFrom: Int64
        var damaged = false
    }

    /// The most ranges one fetch skips (deleted, then damaged ones) before it answers.
    static var maxFetchSkips: Int { 8 }

    /// Reads from `offset`, moving it to the partition's start (and noting the `gap`) when the
    /// records asked for were deleted and `reset=earliest`; `416` otherwise or past the end.
    /// Damaged stored data is skipped whatever `reset` says: the `gap` then carries
    /// `damaged` and ends where reading resumed. After ``maxFetchSkips`` skips the answer is
    /// empty at the offset reached, for the client to go on from.
    private func readOrResolve(
        _ partition: Partition, from offset: inout Offset, gap: inout FetchGap?,
        resetToEarliest: Bool, limit: Int
    ) async throws -> Partition.ReadResult {
        for _ in 0..<Self.maxFetchSkips {
            let start = partition.startOffset
            let end = partition.endOffset
            if offset < start {
                guard resetToEarliest else { throw outOfRange(offset, start: start, end: end) }
                if gap == nil { gap = FetchGap(requested: offset.rawValue, resumedFrom: start.rawValue) } else { gap!.resumedFrom = start.rawValue }
                offset = start
            }
            if offset > end { throw outOfRange(offset, start: start, end: end) }
            do {
                return try await partition.read(from: offset, maxRecords: limit)
            } catch LogError.Code.offsetOutOfRange {
                continue  // retention moved the start meanwhile: resolve again
            } catch let error as LogError where error.code == .corruptData && error.range != nil {
                // The partition logged it once; the client learns the range and reads on after it.
                let resume = max(offset, error.range!.end)
                if gap == nil { gap = FetchGap(requested: offset.rawValue, resumedFrom: resume.rawValue) } else { gap!.resumedFrom = resume.rawValue }
                gap!.damaged = true
                offset = resume
            }
        }
        return Partition.ReadResult(records: [], nextOffset: offset)
    }

    private func outOfRange(_ offset: Offset, start: Offset, end: Offset) -> APIError {
        APIError(.offsetOutOfRange, "Offset \(offset) is outside the partition's range \(start) to \(end).",
                 extraFields: [("start_offset", start.rawValue), ("end_offset", end.rawValue)])
    }
}
