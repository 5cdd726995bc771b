import EventLog
import Hummingbird
import NIOCore

extension Routes {
    /// `GET /healthz` and `GET /metrics`.
    func addOperationRoutes(to router: Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            switch server.lifecycle.phase {
            case .running:
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
            }, streamCache: server.streamReadCache.counts)
            server.metrics.updateDamagedRanges(topics.flatMap(\.partitions))
            await updateConsumerLagGauges()  // consumer groups (Routes+Groups.swift)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: server.metrics.exposition()))
            )
        }
    }
}
