import Foundation

/// What a program that ran to its end printed, and its exit status.
package struct ProcessOutput: Sendable {
    /// The exit status (or the signal's number, when a signal ended it).
    package var status: Int32
    /// Standard output, as UTF-8 text (with standard error in it when they were merged).
    package var stdout: String
    /// Standard error, as UTF-8 text (empty when merged into `stdout`).
    package var stderr: String

    /// Runs `executable` with `arguments` to its end.
    ///
    /// Output goes to files, read once the program has exited, so no pipe can fill up and
    /// block it however much it prints. The wait for its exit holds no thread (a
    /// termination handler resumes it), so a long run does not starve the other tests.
    ///
    /// - Parameters:
    ///   - environment: the program's environment; the test's own when `nil`.
    ///   - mergingStandardError: standard error into `stdout` too, in the order written.
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, mergingStandardError: Bool = false
    ) async throws -> ProcessOutput {
        let scratch = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(scratch) }
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = mergingStandardError ? out : try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = out
        process.standardError = err
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in exited.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                exited.resume(throwing: error)
            }
        }
        try? out.close()
        if !mergingStandardError { try? err.close() }
        return ProcessOutput(
            status: process.terminationStatus,
            stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }
}
