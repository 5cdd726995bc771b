import ArgumentParser
import EventLogClient

struct Groups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A consumer group's commits and lag.",
        subcommands: [Lag.self, Commits.self]
    )

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
