import ArgumentParser
import EventLogClient
import Foundation

struct Consume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a topic's records over Server-Sent Events, resuming by itself when the connection drops.",
        discussion: """
            --from earliest | latest | OFFSET (on every partition) | time:ISO8601 or time:MS (each \
            partition's first record at or after that time) | -N (the last N of each \
            partition; write --from=-N) | a cursor a stream gave before (17,4,-1). Without --follow the command \
            stops once it has printed what the topic held when it started. With --group G the \
            server starts from G's commit and commits what was printed (at most every second, \
            and when the command ends, Ctrl-C included).

              logctl consume orders --from earliest --limit 10
              logctl consume orders --from=-5 --follow --format json
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, value
    }

    @OptionGroup var server: ServerOptions
    @Argument(help: "The topic.") var topic: String
    @Option(help: "Where to start.") var from = "latest"
    @Option(help: "A consumer group whose position to start from and commit.") var group: String?
    @Flag(help: "Keep waiting for new records.") var follow = false
    @Option(help: "Stop after this many records.") var limit: Int?
    @Option(help: "text (partition, offset, type, value), json (one object per line) or value (the value only).")
    var format: Format = .text

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
    }

    func run() async throws {
        let client = server.client
        try await reportingErrors {
            guard let info = try await client.topic(named: topic) else {
                throw EventLogClientError(code: .topicNotFound, message: "Topic \(topic) does not exist.", status: 404)
            }
            let start = try Self.start(from, partitions: info.partitions)
            // Without --follow: stop at the ends the topic had now.
            var remaining: [Int: Int64] = [:]
            for p in info.partitions where p.endOffset > p.startOffset { remaining[p.partition] = p.endOffset - 1 }
            if !follow, case .time(let time) = start {
                // Partitions with nothing at or after the time have nothing to wait for.
                for partition in remaining.keys {
                    let first = try await client.fetch(topic: topic, partition: partition, from: .time(time), limit: 1)
                    if first.records.isEmpty { remaining[partition] = nil }
                }
            }
            if !follow, group == nil, case .latest = start { return }
            var printed = 0
            if !follow, remaining.isEmpty { return }
            for try await event in client.records(topic: topic, from: start, group: group) {
                switch event {
                case .record(let record):
                    printLine(Self.render(record, format))
                    printed += 1
                    if let limit, printed >= limit { return }
                    if !follow, let last = remaining[record.partition], record.offset >= last {
                        remaining[record.partition] = nil
                        if remaining.isEmpty { return }
                    }
                case .gap(let n):
                    FileHandle.standardError.write(Data("gap on partition \(n.partition): \(n.requested)..<\(n.resumedFrom) \(n.reason ?? "deleted")\n".utf8))
                    if !follow, let last = remaining[n.partition], n.resumedFrom > last { remaining[n.partition] = nil }
                case .reset(let n):
                    FileHandle.standardError.write(Data("reset on partition \(n.partition): resumed at \(n.resumedFrom)\n".utf8))
                case .reconnecting(let delay, let error):
                    FileHandle.standardError.write(Data("reconnecting in \(delay)\(error.map { " (\($0.message))" } ?? "")\n".utf8))
                case .tokenExpired(let cursor):
                    throw EventLogClientError(code: .tokenExpired, message: "The token expired; resume with a fresh one and --from \(cursor).", status: 401)
                }
            }
        }
    }

    static func start(_ text: String, partitions: [TopicInfo.PartitionInfo]) throws -> StreamStart {
        switch text {
        case "earliest": return .earliest
        case "latest": return .latest
        default: break
        }
        if text.hasPrefix("time:"), text.count > 5 { return .time(String(text.dropFirst(5))) }
        if text.hasPrefix("-"), let n = Int64(text.dropFirst()), n > 0 {
            // The last n of each partition: a cursor one before max(start, end - n).
            let cursor = partitions.sorted { $0.partition < $1.partition }
                .map { String(max($0.startOffset, $0.endOffset - n) - 1) }.joined(separator: ",")
            return .cursor(cursor)
        }
        if let offset = Int64(text), offset >= 0 { return .offset(offset) }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        // Fewer numbers than partitions: a cursor from before the topic grew (the server checks it).
        if (1...partitions.count).contains(parts.count), parts.allSatisfy({ Int64($0).map { $0 >= -1 } ?? false }) { return .cursor(text) }
        throw ValidationError("--from takes earliest, latest, an offset, time:<ms or ISO 8601>, -N or a cursor of \(partitions.count) numbers, not '\(text)'.")
    }

    static func render(_ record: StreamedRecord, _ format: Format) -> String {
        let value = String(decoding: record.valueBytes, as: UTF8.self)
        switch format {
        case .value:
            return value
        case .text:
            return "\(record.partition)\t\(record.offset)\t\(record.type ?? "-")\t\(value)"
        case .json:
            let type = record.type.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" } ?? "null"
            let data = try? JSONSerialization.data(withJSONObject: record.data, options: [.fragmentsAllowed])
            return "{\"partition\": \(record.partition), \"offset\": \(record.offset), \"type\": \(type), \"data\": \(data.map { String(decoding: $0, as: UTF8.self) } ?? "null"), \"cursor\": \"\(record.cursor)\"}"
        }
    }
}
