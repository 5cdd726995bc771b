import ArgumentParser
import EventLogBenchmarks

/// `eventlog-bench`: flags and wiring; the scenarios live in EventLogBenchmarks.
@main
struct EventLogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventlog-bench",
        abstract: "Release-build benchmarks of EventLog, each figure with a baseline measured in the same run.",
        discussion: "Scenarios: " + ScenarioName.allCases.map(\.rawValue).joined(separator: ", ")
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Run only these scenarios (names or comma-separated lists; see --list).")
    var only: [String] = []

    @Flag(name: .long, help: "A small smoke run: sizes and durations cut down about tenfold.")
    var quick = false

    @Flag(name: .long, help: "List the scenarios and exit.")
    var list = false

    @Option(name: .long, help: "Where to make the scratch directory (removed at the end).")
    var directory = "/tmp"

    @Option(name: .long, help: "Size in GB (10^9 bytes) of the log for the open scenario (default 5, or 0.25 with --quick).")
    var openLogGB: Double?

    @Option(name: .long, help: "Concurrent appending tasks for the throughput scenarios.")
    var appenders = 4

    @Option(name: .long, help: "Seconds for each time-bounded loop (the fsync scenarios, commits, append runs beside the cleaner).")
    var seconds: Double?

    @Option(name: .long, help: "Size in GB of the logs of compaction and log-dump-verify (default 1, or 0.1 with --quick).")
    var logGB: Double?

    @Option(name: .long, help: "The release log-dump to time (default: build it in this package, or ../../.build/release/log-dump).")
    var logDump: String?

    func validate() throws {
        for name in selectedNames where ScenarioName(rawValue: name) == nil {
            throw ValidationError("unknown scenario \(name); known: \(ScenarioName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard appenders >= 1 else { throw ValidationError("--appenders must be at least 1") }
        if let logGB, !(logGB > 0) { throw ValidationError("--log-gb must be positive") }
        if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be positive") }
    }

    private var selectedNames: [String] {
        only.flatMap { $0.split(separator: ",").map(String.init) }
    }

    func run() async throws {
        if list {
            for s in ScenarioName.allCases { print("\(s.rawValue): \(s.summary)") }
            return
        }
        var options = BenchmarkOptions()
        if !selectedNames.isEmpty {
            let chosen = Set(selectedNames.compactMap(ScenarioName.init(rawValue:)))
            options.scenarios = ScenarioName.allCases.filter(chosen.contains)
        }
        options.quick = quick
        options.parentDirectory = directory
        options.openLogBytes = openLogGB.map { Int64($0 * 1e9) }
        options.appenders = appenders
        options.seconds = seconds
        options.logBytes = logGB.map { Int64($0 * 1e9) }
        options.logDumpPath = logDump
        try await BenchmarkSuite(options: options).run()
    }
}
