import Foundation

/// A command run to completion, timed from launch to exit: for the baselines and tools that
/// are whole programs (`cat`, `log-dump`).
enum Subprocess {
    /// What a finished command did.
    struct Outcome {
        var status: Int32
        var seconds: Double
        /// Standard error, and standard output when captured.
        var output: String
    }

    /// Runs `executable` with `arguments`; standard output goes to `/dev/null` unless
    /// `captureOutput`, standard error is always captured.
    static func run(_ executable: String, _ arguments: [String], captureOutput: Bool = false,
                    directory: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = captureOutput ? pipe : FileHandle.nullDevice
        let watch = Stopwatch()
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = watch.elapsedSeconds
        return Outcome(status: process.terminationStatus, seconds: seconds, output: String(decoding: output, as: UTF8.self))
    }

    /// The first executable file named `name` in `$PATH`.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
