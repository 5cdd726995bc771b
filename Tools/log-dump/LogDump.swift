import ArgumentParser

#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// `log-dump PATH [--records] [--verify] [--json]`: reads EventLog files without a server,
/// never writing, never taking the data directory's lock. See Docs/LOG-DUMP.md.
///
/// Exit status: 0 clean, 1 problems found, 2 usage error or unreadable PATH.
@main
struct LogDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-dump",
        abstract: "Summarise, print or verify EventLog segment files, indexes and data directories.",
        discussion: """
            PATH is a segment (.log), an index (.index, .timeindex), a partition directory, a topic \
            directory or a whole data directory, also one logd has open: files are only read, the \
            lock is never taken and symbolic links inside PATH are not followed.

            Exit status: 0 when no problem was found, 1 when one was, 2 for a usage error or an \
            unreadable PATH.
            """)

    @Argument(help: "A .log, .index or .timeindex file, or a partition, topic or data directory.")
    var path: String

    @Flag(help: "Print every record, decompressed: offset, timestamp, key, headers and value (text, or base64 when not UTF-8).")
    var records = false

    @Flag(help: "Check every batch's CRC32C and framing, increasing offsets, every index entry and how segments follow one another.")
    var verify = false

    @Flag(help: "Print one JSON document (JSON Lines with --records).")
    var json = false

    @Option(name: .customLong("from-offset"), help: "Print records from this offset on, found through the offset index (implies --records).")
    var fromOffset: Int64?

    @Option(help: "Print at most this many records (implies --records).")
    var count: Int?

    @Flag(help: "With --verify: a batch cut off at the end of a partition's newest segment (a writer mid-append) is a note, not a problem.")
    var allowIncompleteTail = false

    @Flag(help: "Never draw the progress bar (drawn on a terminal only, while verifying more than 64 MiB).")
    var noProgress = false

    func validate() throws {
        if let count, count < 0 { throw ValidationError("--count must be 0 or more.") }
        if verify && (fromOffset != nil || count != nil) {
            throw ValidationError("--verify reads whole files; it cannot be combined with --from-offset or --count.")
        }
    }

    var settings: DumpSettings {
        DumpSettings(
            verify: verify, records: records || fromOffset != nil || count != nil, json: json,
            fromOffset: fromOffset, count: count, allowIncompleteTail: allowIncompleteTail, progress: !noProgress)
    }

    func run() throws {
        let settings = settings
        let out = StandardOutput()
        let reporter: any Reporter = settings.json ? JSONReporter(out: out, settings: settings) : TextReporter(out: out, settings: settings)
        let report = try Dump(settings: settings).run(path: path, reporter: reporter)
        out.flush()
        if report.problemCount > 0 { throw ExitCode(1) }
    }

    /// Parses, runs and exits with the contract's statuses (ArgumentParser's usage status is 64; ours is 2).
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        let command: LogDump
        do {
            command = try parse()
        } catch {
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            printError(fullMessage(for: error))
            Glibc.exit(2)
        }
        do {
            try command.run()
        } catch let error as DumpError {
            printError("log-dump: " + error.message)
            Glibc.exit(2)
        } catch let error as ExitCode {
            Glibc.exit(error.rawValue)
        } catch {
            printError("log-dump: \(error)")
            Glibc.exit(2)
        }
        Glibc.exit(0)
    }

    private static func printError(_ message: String) {
        let line = message + "\n"
        _ = line.utf8CString.withUnsafeBytes { write(2, $0.baseAddress, $0.count - 1) }
    }
}
