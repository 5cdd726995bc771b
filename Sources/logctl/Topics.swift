import ArgumentParser
import EventLogClient

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, describe, create and delete topics.",
        subcommands: [List.self, Describe.self, Create.self, Delete.self]
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
                    throw EventLogClientError(code: "topic_not_found", message: "Topic \(topic) does not exist.", status: 404)
                }
                printLine("topic \(info.name)")
                for (name, value) in info.config.sorted(by: { $0.key < $1.key }) { printLine("  \(name) = \(value)") }
                for p in info.partitions {
                    printLine("  partition \(p.partition): start \(p.startOffset), end \(p.endOffset), \(p.sizeBytes) bytes")
                }
            }
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

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a topic and all its records.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The topic.") var topic: String

        func run() async throws {
            try await reportingErrors { try await server.client.deleteTopic(topic) }
        }
    }
}
