#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Runs the selected scenarios in order and prints the results table.
public struct BenchmarkSuite {
    private let options: BenchmarkOptions

    public init(options: BenchmarkOptions) {
        self.options = options
    }

    /// Runs everything selected; the scratch directory is removed whatever happens.
    public func run() async throws {
        let context = try BenchmarkContext(options: options)
        defer { context.work.remove() }
        printHeader(context)
        let started = Stopwatch()
        for scenario in ScenarioName.allCases where options.scenarios.contains(scenario) {
            print("\n== \(scenario.rawValue): \(scenario.summary)")
            settle(context)
            let watch = Stopwatch()
            try await run(scenario, in: context)
            print("   (\(Units.fixed(watch.elapsedSeconds, 1)) s)")
        }
        if let fixture = context.readFixture { try await fixture.close() }
        print("\n== Results (\(options.quick ? "quick" : "full") run, \(Units.fixed(started.elapsedSeconds, 0)) s, load average at the end: \(Machine.loadAverage))\n")
        print(context.results.plainText())
        print("\n" + context.results.summary)
        if !context.notes.isEmpty {
            print("\nNotes:")
            for n in context.notes { print("- " + n) }
        }
        print("\nMarkdown:\n")
        print(context.results.markdown())
    }

    private func run(_ scenario: ScenarioName, in context: BenchmarkContext) async throws {
        switch scenario {
        case .disk: try await DiskScenario.run(context)
        case .ceiling: try await CeilingScenario.run(context)
        case .appendNone: try await AppendScenarios.runNone(context)
        case .appendLZ4: try await AppendScenarios.runLZ4(context)
        case .appendZstd: try await AppendScenarios.runZstd(context)
        case .append1MiB: try await AppendScenarios.runLargeBatches(context)
        case .groupCommit: try await GroupCommitScenario.run(context)
        case .randomRead: try await RandomReadScenario.run(context)
        case .sequentialRead: try await SequentialReadScenario.run(context)
        case .open: try await OpenScenario.run(context)
        case .compaction: try await CompactionScenario.run(context)
        case .appendWhileCompacting: try await AppendWhileCompactingScenario.run(context)
        case .logDumpVerify: try await LogDumpVerifyScenario.run(context)
        case .groups: try await GroupsScenario.run(context)
        }
    }

    /// Starts each scenario from the same state: no dirty pages of an earlier one being written back.
    private func settle(_ context: BenchmarkContext) {
        sync()
    }

    private func printHeader(_ context: BenchmarkContext) {
        let dir = context.work.path
        print("eventlog-bench: \(options.quick ? "quick" : "full") run of \(options.scenarios.map(\.rawValue).joined(separator: ", "))")
        print("machine: \(Machine.cores) cores, \(Units.bytes(Machine.memoryBytes)) memory; scratch \(dir) on a file system of "
            + "\(Units.bytes(Machine.fileSystemBytes(at: dir))) with \(Units.bytes(Machine.availableBytes(at: dir))) free")
        print("appending tasks: \(options.appenders); load average at start: \(Machine.loadAverage)")
    }
}
