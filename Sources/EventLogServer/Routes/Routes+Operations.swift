import EventLog
import Hummingbird
import NIOCore

extension Routes {
    /// `GET /healthz` and `GET /metrics`.
    ///
    /// `/healthz` is `200 {"status": "ok"}` while the server accepts writes; `503` while it
    /// starts or stops, and `503 not_accepting_writes` with the `reason` (`disk_full`,
    /// `io_error`, `read_only`), `topic`, `partition` and `since_ms` while appends fail for a disk reason
    /// (``WriteHealth``).
    func addOperationRoutes(to router: Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            switch server.lifecycle.phase {
            case .running:
                if let failure = server.writeHealth.currentFailure { return Self.notAcceptingWrites(failure) }
                return json(Array(#"{"status":"ok"}"#.utf8))
            case .starting:
                throw APIError(.unavailable, "The server is starting.", headers: [.retryAfter: "1"])
            case .stopping:
                throw APIError(.unavailable, "The server is stopping.", headers: [.retryAfter: "1"])
            }
        }
        router.get("/metrics") { _, _ -> Response in
            let topics = store.topics(includeInternal: true)
            server.metrics.updateScrapeGauges(diskBytes: topics.map { topic in
                (topic.name, topic.partitions.reduce(Int64(0)) { $0 + $1.sizeInBytes })
            }, streamCache: server.streamReadCache.counts, liveStreams: server.liveFanout.memberCount,
               acceptingWrites: server.writeHealth.currentFailure == nil)
            server.metrics.updateAppendSyncs(topics.map { topic in
                (topic.name, topic.partitions.reduce(Int64(0)) { $0 + $1.statistics.syncs })
            })
            server.metrics.updateDamagedRanges(topics.flatMap(\.partitions))
            await updateConsumerLagGauges()  // consumer groups (Routes+Groups.swift)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: server.metrics.exposition()))
            )
        }
    }

    /// `503 {"error": "not_accepting_writes", "message", "reason", "topic", "partition", "since_ms"}`.
    private static func notAcceptingWrites(_ failure: WriteHealth.Failure) -> Response {
        let cause = switch failure.reason {
        case .diskFull: "the disk is full"
        case .ioError: "writing or syncing to the disk fails"
        case .readOnly: "a sync of its files failed; it refuses writes until logd restarts"
        }
        var out = JSONWriter()
        out.beginObject()
        out.key("error"); out.string(APIError.Code.notAcceptingWrites.name)
        out.key("message"); out.string("Not accepting writes: appends to topic \(failure.topic) partition \(failure.partition) fail because \(cause).")
        out.key("reason"); out.string(failure.reason.rawValue)
        out.key("topic"); out.string(failure.topic)
        out.key("partition"); out.int(failure.partition)
        out.key("since_ms"); out.int(failure.sinceMilliseconds)
        out.endObject()
        return Response(status: APIError.Code.notAcceptingWrites.status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }
}
