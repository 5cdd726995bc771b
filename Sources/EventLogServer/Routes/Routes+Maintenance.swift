import EventLog
import Hummingbird

extension Routes {
    /// `POST /v1/topics/{topic}/compact` and `POST /v1/topics/{topic}/retention`: run a cleaner
    /// pass on every partition now and answer with what it did. Neither creates a topic.
    func addMaintenanceRoutes(to router: Router<Context>) {
        router.post("/v1/topics/:topic/compact") { request, context in
            let topic = try existingTopic(try await topicName(request, context, for: .manage))
            guard topic.configuration.cleanupPolicy.contains(.compact) else {
                throw APIError(.notCompacted, "Topic \(topic.name) has cleanup policy \(topic.configuration.cleanupPolicy), not compact.")
            }
            var reports: [(partition: Int, report: CompactionReport)] = []
            for partition in topic.partitions {
                reports.append((partition.index, try await partition.compact(limits: server.configuration.compactionLimits)))
            }
            var out = JSONWriter()
            out.objectWithArray("partitions") { out in
                for (index, report) in reports {
                    out.beginObject()
                    out.key("partition"); out.int(index)
                    out.key("bytes_before"); out.int(Int(report.bytesBefore))
                    out.key("bytes_after"); out.int(Int(report.bytesAfter))
                    out.key("records_removed"); out.int(Int(report.recordsRemoved))
                    out.key("passes"); out.int(report.passes)
                    out.key("duration_ms"); out.int(report.duration.wholeMilliseconds)
                    out.endObject()
                }
            }
            return json(out.bytes)
        }
        router.post("/v1/topics/:topic/retention") { request, context in
            let topic = try existingTopic(try await topicName(request, context, for: .manage))
            var reports: [(partition: Int, report: RetentionReport)] = []
            for partition in topic.partitions { reports.append((partition.index, try await partition.applyRetention())) }
            var out = JSONWriter()
            out.objectWithArray("partitions") { out in
                for (index, report) in reports {
                    out.beginObject()
                    out.key("partition"); out.int(index)
                    out.key("start_offset"); out.int(Int(report.startOffset.rawValue))
                    out.key("segments_deleted"); out.int(report.segmentsDeleted)
                    out.key("bytes_deleted"); out.int(Int(report.bytesDeleted))
                    out.endObject()
                }
            }
            return json(out.bytes)
        }
    }
}
