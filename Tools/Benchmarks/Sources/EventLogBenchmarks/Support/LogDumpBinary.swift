import Foundation

/// Finds the release `log-dump` executable to time.
///
/// In order: the path given with `--log-dump`; a build of it in the nested package
/// (`swift build -c release --product log-dump`, a product of the EventLog dependency, so it is
/// built from the same library sources as the benchmark, beside it); an earlier such build;
/// the repository root's `.build/release/log-dump`.
enum LogDumpBinary {
    /// The executable's path and how it was found, or why there is none.
    static func locate(_ context: BenchmarkContext) -> Result<(path: String, origin: String), BenchmarkError> {
        let files = FileManager.default
        if let given = context.options.logDumpPath {
            return files.isExecutableFile(atPath: given) ? .success((given, "--log-dump")) : .failure(BenchmarkError("--log-dump \(given) is not an executable"))
        }
        let binDirectory = URL(fileURLWithPath: executablePath).deletingLastPathComponent().path
        let beside = binDirectory + "/log-dump"
        let package = packageDirectory
        if let package, let swift = Subprocess.which("swift") {
            print("  building log-dump: swift build -c release --product log-dump (in \(package))")
            let build = try? Subprocess.run(swift, ["build", "-c", "release", "--product", "log-dump"], captureOutput: true, directory: package)
            if build?.status == 0, files.isExecutableFile(atPath: beside) { return .success((beside, "built in the nested package")) }
            print("  could not build log-dump there: \(build?.output.split(separator: "\n").suffix(3).joined(separator: " | ") ?? "swift did not run")")
        }
        if files.isExecutableFile(atPath: beside) { return .success((beside, "an earlier release build in the nested package")) }
        if let package {
            let root = URL(fileURLWithPath: package + "/../../.build/release/log-dump").standardized.path
            if files.isExecutableFile(atPath: root) { return .success((root, "the repository root's release build (may predate the working tree)")) }
        }
        return .failure(BenchmarkError("no release log-dump found: build it with `swift build -c release --product log-dump` or pass --log-dump PATH"))
    }

    /// The running executable (`/proc/self/exe`).
    private static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The nested package's directory: the part of the executable's path before `/.build/`.
    private static var packageDirectory: String? {
        guard let range = executablePath.range(of: "/.build/") else { return nil }
        return String(executablePath[..<range.lowerBound])
    }
}
