package import Foundation

/// Collects the lines a child process writes to a pipe, on a thread of its own, until the
/// pipe ends; the test reads them while the process runs.
package final class LineCollector: @unchecked Sendable {
    // @unchecked: `buffer` and `done` are only touched under `lock`.
    private let lock = NSLock()
    private var buffer = Data()
    private var done = false
    private let finished = DispatchSemaphore(value: 0)

    /// Starts reading `handle` (the read end of a child's pipe) until end of file.
    package init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock(); buffer.append(chunk); lock.unlock()
            }
            lock.lock(); done = true; lock.unlock()
            finished.signal()
        }
    }

    /// The complete lines so far (a line still being written is left out).
    package var lines: [String] {
        lock.lock(); defer { lock.unlock() }
        return Self.completeLines(buffer)
    }

    /// Whether the pipe has ended (the process closed it, usually by exiting).
    package var isFinished: Bool {
        lock.lock(); defer { lock.unlock() }
        return done
    }

    /// Waits for the first complete line that satisfies `predicate` and returns it; `nil`
    /// when the pipe ends without one or `timeout` passes first. Looks every 5 ms.
    package func firstLine(within timeout: Duration, where predicate: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let ended = isFinished  // read before the lines, so no line written before the end is missed
            if let line = lines.first(where: predicate) { return line }
            if ended || ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits for end of file and returns every complete line (a torn last line is dropped).
    package func finish() -> [String] {
        finished.wait()
        finished.signal()  // a second call returns at once
        lock.lock(); defer { lock.unlock() }
        return Self.completeLines(buffer)
    }

    private static func completeLines(_ data: Data) -> [String] {
        guard let lastNewline = data.lastIndex(of: 0x0A) else { return [] }
        return String(decoding: data[..<lastNewline], as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
