import Foundation
import Testing

/// A real `logd` (built next to the test bundle, or `LOGD_BIN`) on a loopback port, with its
/// own data directory; it can be killed with SIGKILL and started again on the same port.
final class LiveLogd: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    let dataDirectory: String
    private(set) var url = ""
    private(set) var port = 0
    private var process: Process?

    static var binary: String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [here.appendingPathComponent("logd").path]
        if let env = ProcessInfo.processInfo.environment["LOGD_BIN"] { candidates.insert(env, at: 0) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    init() {
        dataDirectory = NSTemporaryDirectory() + "eventlog-client-test-" + UUID().uuidString
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// Starts `logd` (on the port it had before, after a restart) and waits for its
    /// "logd listening on" line.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--data-dir", dataDirectory, "--host", "127.0.0.1", "--port", String(port), "--log-level", "error"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("logd listening on ") }) {
                url = String(line.dropFirst("logd listening on ".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/ "))
                port = Int(url.split(separator: ":").last ?? "") ?? 0
                return
            }
        }
        throw LiveLogdError(message: "logd did not start: \(text)")
    }

    /// SIGKILL, and wait until the process is gone.
    func kill9() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, and the exit status.
    func stop() -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct LiveLogdError: Error {
    var message: String
}
