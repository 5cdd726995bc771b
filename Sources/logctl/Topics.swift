import ArgumentParser
import EventLogClient

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, describe, create, alter and delete topics.",
        subcommands: [List.self, Describe.self, Create.self, Alter.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the topics: name, partitions, records, bytes.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await reportingErrors {
                for topic in try await server.client.topics().sorted(by: { $0.name < $1.name }) {
                    let records = topic.partitions.reduce(Int64(0)) { $0 + $1.endOffset - $1.startOffset }
                    let bytes = topic.partitions.reduce(Int64(0)) { $0 + $1.sizeBytes }
                    printLine("\(topic.name)\tpartitions=\(topic.partitions.count)\trecords=\(records)\tbytes=\(bytes)")
                }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a topic's settings and each partition's offsets.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The topic.") var topic: String

        func run() async throws {
            try await reportingErrors {
                guard let info = try await server.client.topic(named: topic) else {
                    throw EventLogClientError(code: .topicNotFound, message: "Topic \(topic) does not exist.", status: 404)
                }
                Topics.printTopic(info)
            }
        }
    }

    /// A topic's settings, one `name = value` line each, then each partition's offsets.
    static func printTopic(_ info: TopicInfo) {
        printLine("topic \(info.name)")
        for (name, value) in info.config.sorted(by: { $0.key < $1.key }) { printLine("  \(name) = \(value)") }
        for p in info.partitions {
            printLine("  partition \(p.partition): start \(p.startOffset), end \(p.endOffset), \(p.sizeBytes) bytes")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a topic (or confirm one with the same settings).",
            discussion: "Example: logctl topics create orders --partitions 3 --retention 7d --compression zstd"
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The topic.") var topic: String
        @Option(help: "Number of partitions (1...10000).") var partitions: Int?
        @Flag(help: "Keep the latest record per key (cleanup policy compact).") var compact = false
        @Option(help: "Delete records older than this (7d, 12h, 30m, 45s, 500ms).", transform: parseDuration) var retention: Duration?
        @Option(help: "Delete the oldest segments beyond this many bytes per partition.") var retentionBytes: Int64?
        @Option(help: "none, lz4 or zstd.") var compression: String?
        @Option(help: "fsync, interval or none.") var durability: String?

        func validate() throws {
            if let partitions, !(1...10_000).contains(partitions) { throw ValidationError("--partitions must be 1...10000.") }
        }

        func run() async throws {
            try await reportingErrors {
                let settings = TopicSettings(partitions: partitions, cleanupPolicy: compact ? "compact" : nil, retention: retention,
                                             retentionBytes: retentionBytes, compression: compression, durability: durability)
                let info = try await server.client.createTopic(topic, settings: settings)
                printLine("topic \(info.name): \(info.partitions.count) partitions")
            }
        }
    }

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a topic's retention, cleanup policy, durability or partition count; print its new settings.",
            discussion: """
                Settings not given keep their values. Retention and compaction apply from the server's next \
                cleaner pass, durability from the next append. The partition count may grow, never shrink \
                (keys hash over the new count from then on); compression and segment size are fixed at \
                creation. Examples:

                  logctl topics alter orders --retention 7d --retention-bytes 10737418240
                  logctl topics alter orders --retention forever
                  logctl topics alter users --compact
                  logctl topics alter users --cleanup-policy compact,delete --retention 30d
                  logctl topics alter clicks --durability interval:250
                  logctl topics alter orders --partitions 6
                """
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The topic.") var topic: String
        @Option(help: "Delete records older than this (7d, 12h, 30m, 45s, 500ms), or 'forever' to keep them.")
        var retention: String?
        @Option(help: "Delete the oldest segments beyond this many bytes per partition (-1: no limit).") var retentionBytes: Int64?
        @Flag(inversion: .prefixedNo, help: "Keep the latest record per key (cleanup policy compact), or not (delete).")
        var compact: Bool?
        @Option(help: "delete, compact or compact,delete.") var cleanupPolicy: String?
        @Option(help: "fsync, none, interval (a sync every second) or interval:<milliseconds>.") var durability: String?
        @Option(help: "Grow the topic to this many partitions (1...10000; never fewer than it has).") var partitions: Int?

        func validate() throws {
            if compact != nil && cleanupPolicy != nil { throw ValidationError("Give --compact/--no-compact or --cleanup-policy, not both.") }
            if let retention, retention != "forever" { _ = try parseDuration(retention) }
            if let retentionBytes, retentionBytes < -1 { throw ValidationError("--retention-bytes must be -1 or more.") }
            if let partitions, !(1...10_000).contains(partitions) { throw ValidationError("--partitions must be 1...10000.") }
            if retention == nil && retentionBytes == nil && compact == nil && cleanupPolicy == nil && durability == nil && partitions == nil {
                throw ValidationError("Nothing to change: give --retention, --retention-bytes, --compact/--no-compact, --cleanup-policy, --durability or --partitions.")
            }
        }

        func run() async throws {
            try await reportingErrors {
                var settings = TopicSettings(partitions: partitions, cleanupPolicy: cleanupPolicy ?? compact.map { $0 ? "compact" : "delete" },
                                             retentionBytes: retentionBytes, durability: durability)
                if retention == "forever" {
                    settings.retentionForever = true
                } else if let retention {
                    settings.retention = try parseDuration(retention)
                }
                Topics.printTopic(try await server.client.alterTopic(topic, settings: settings))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a topic and all its records.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The topic.") var topic: String

        func run() async throws {
            try await reportingErrors { try await server.client.deleteTopic(topic) }
        }
    }
}
