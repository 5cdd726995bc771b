import ArgumentParser
import EventLogClient

struct Groups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumer groups: list, describe, lag, commits, reset, delete.",
        subcommands: [List.self, Describe.self, Lag.self, Commits.self, Reset.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the groups: name, state, members.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await reportingErrors {
                for g in try await server.client.groups() { printLine("\(g.name)\tstate=\(g.state)\tmembers=\(g.members)") }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A group's members, their partitions, and its commits.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The group.") var group: String

        func run() async throws {
            try await reportingErrors {
                let g = try await server.client.group(named: group)
                printLine("group \(g.name): \(g.state), generation \(g.generation), \(g.members.count) member(s)")
                for m in g.members {
                    let parts = m.assignment.map { "\($0.topic)/\($0.partition)" }.joined(separator: " ")
                    printLine("  member \(m.id) topics=\(m.topics.joined(separator: ",")) partitions=\(parts.isEmpty ? "-" : parts)")
                }
                for o in g.offsets { printLine("  committed \(o.topic)/\(o.partition) = \(o.offset)\(o.metadata.map { " (\($0))" } ?? "")") }
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a group's position on a topic and commit it.",
            discussion: "--to earliest | latest | OFFSET | time:ISO8601 (or time:MS). Example: logctl groups reset billing --topic orders --to time:2026-12-01T09:00:00Z"
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The group.") var group: String
        @Option(help: "The topic.") var topic: String
        @Option(help: "earliest, latest, an offset, or time:<ISO 8601 or ms>.") var to: String
        @Option(help: "Only this partition (repeatable).") var partition: [Int] = []

        func run() async throws {
            let target: ResetTarget
            switch to {
            case "earliest": target = .earliest
            case "latest": target = .latest
            case _ where to.hasPrefix("time:"):
                // The server parses the time (ms or ISO 8601) and answers 400 for anything else.
                target = .timeText(String(to.dropFirst(5)))
            default:
                guard let offset = Int64(to), offset >= 0 else { throw ValidationError("--to takes earliest, latest, an offset or time:..., not '\(to)'.") }
                target = .offset(offset)
            }
            try await reportingErrors {
                let offsets = try await server.client.resetGroup(group, topic: topic, to: target, partitions: partition.isEmpty ? nil : partition)
                for o in offsets { printLine("\(o.topic)\t\(o.partition)\t\(o.offset)") }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a group without members, and its commits.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The group.") var group: String

        func run() async throws {
            try await reportingErrors { try await server.client.deleteGroup(group) }
        }
    }

    struct Lag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How far a group is behind, per partition.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The group.") var group: String

        func run() async throws {
            try await reportingErrors {
                var total: Int64 = 0
                for p in try await server.client.lag(group: group) {
                    printLine("\(p.topic)\t\(p.partition)\tcommitted=\(p.committed)\tend=\(p.endOffset)\tlag=\(p.lag)")
                    total += p.lag
                }
                printLine("total lag \(total)")
            }
        }
    }

    struct Commits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The offsets a group has committed (the next offset to read).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The group.") var group: String

        func run() async throws {
            try await reportingErrors {
                for c in try await server.client.committedOffsets(group: group) {
                    printLine("\(c.topic)\t\(c.partition)\t\(c.offset)\(c.metadata.map { "\t" + $0 } ?? "")")
                }
            }
        }
    }
}
