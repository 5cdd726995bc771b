import ArgumentParser
import EventLogClient
import Foundation

/// `logctl`: Kafka's console tools and kcat in one, over `logd`'s HTTP API.
@main
struct LogCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logctl",
        abstract: "Work with a logd server: topics, produce, consume, consumer groups.",
        discussion: """
            The server is --url (or $LOGD_URL, default http://127.0.0.1:8080); a token is --token \
            (or $LOGD_TOKEN). Examples:

              logctl topics create orders --partitions 3 --retention 7d
              logctl topics alter orders --retention 30d --durability none
              seq 1 1000 | logctl produce orders --print-offsets
              logctl consume orders --from earliest --limit 10
              logctl consume orders --from=-5 --follow --format json
              logctl groups lag billing
            """,
        subcommands: [Topics.self, Produce.self, Consume.self, Groups.self]
    )
}

/// The options every subcommand takes.
struct ServerOptions: ParsableArguments {
    @Option(help: "The logd server's URL (default: $LOGD_URL, else http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "A bearer token (default: $LOGD_TOKEN).")
    var token: String?

    var client: EventLogClient {
        let environment = ProcessInfo.processInfo.environment
        return EventLogClient(url: url ?? environment["LOGD_URL"] ?? "http://127.0.0.1:8080",
                              token: token ?? environment["LOGD_TOKEN"])
    }
}

/// Runs `body`; a client error becomes its sentence on standard error and exit code 1
/// (never a stack trace).
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as EventLogClientError {
        FileHandle.standardError.write(Data(("logctl: " + error.description + "\n").utf8))
        throw ExitCode(1)
    } catch let error as ValidationError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("logctl: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// `7d`, `12h`, `30m`, `45s`, `500ms`, or a number of milliseconds.
func parseDuration(_ text: String) throws -> Duration {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, ms) in units where text.hasSuffix(suffix) {
        let number = text.dropLast(suffix.count)
        if let n = Int64(number), n >= 0, n <= Int64.max / ms { return .milliseconds(n * ms) }
    }
    if let n = Int64(text), n >= 0 { return .milliseconds(n) }
    throw ValidationError("'\(text)' is not a duration (e.g. 7d, 12h, 30m, 45s, 500ms).")
}

func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
