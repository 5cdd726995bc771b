import Foundation

/// A real `logd` (``BuiltProduct/logd``) on a loopback port with a data directory of its own,
/// which a test can stop, kill with `SIGKILL` and start again on the same port.
///
/// The data directory is removed, and a process still running killed, when the value goes away.
package final class LiveLogd: @unchecked Sendable {
    // @unchecked: used from one test task at a time.

    /// The server's data directory (`--data-dir`).
    package let dataDirectory: String
    /// `http://127.0.0.1:PORT` once started.
    package private(set) var url = ""
    /// The port it listens on once started; a restart keeps it.
    package private(set) var port = 0
    private var process: Process?

    /// A server not started yet, with a fresh data directory.
    ///
    /// - Throws: ``TestSupportError`` when the directory cannot be made.
    package init() throws {
        dataDirectory = try makeTemporaryDirectory()
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        removeTemporaryDirectory(dataDirectory)
    }

    /// Starts `logd` (on a free port the first time, on the same port after that) and waits,
    /// at most `timeout`, for its `logd listening on URL` line.
    ///
    /// - Throws: ``TestSupportError`` when it is not built, or exits or stays silent instead.
    package func start(timeout: Duration = .seconds(60)) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProduct.logd.requireBuilt())
        process.arguments = ["--data-dir", dataDirectory, "--host", "127.0.0.1", "--port", String(port), "--log-level", "error"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let output = LineCollector(stdout.fileHandleForReading)
        let prefix = "logd listening on "
        guard let line = try await output.firstLine(within: timeout, where: { $0.hasPrefix(prefix) }) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw TestSupportError("logd did not start within \(timeout): \(output.lines.joined(separator: "\n"))")
        }
        url = String(line.dropFirst(prefix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/ "))
        port = Int(url.split(separator: ":").last ?? "") ?? 0
    }

    /// `SIGKILL`, and waits until the process is gone.
    package func kill9() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// `SIGTERM`, and the exit status once it has stopped.
    package func stop() -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
