import Synchronization

/// The seam through which tests make system calls fail on purpose.
///
/// Every write, sync and truncate of the storage engine asks the injector first; a rule
/// armed for that call makes it fail with the given `errno` (or write only part of its
/// bytes, as a full disk does). Production stores have no injector.
package final class FaultInjector: Sendable {
    /// The system calls that can be made to fail.
    package enum Call: Hashable, Sendable {
        case pwrite, fdatasync, ftruncate, open, flock
        /// `mkdir(2)` of a directory.
        case mkdir
        /// `fsync(2)` of a directory (making creations and renames in it durable).
        case fsyncDirectory
    }

    package struct Rule: Sendable {
        /// Fail the n-th matching call from now (1 = the next one).
        var after: Int
        /// How many calls fail once it fires (`Int.max`: until cleared).
        var times: Int
        /// The errno returned.
        var errno: Int32
        /// For `pwrite`: how many bytes to write before failing (a torn write).
        var partialBytes: Int
        /// Only calls on files whose path has this suffix.
        var pathSuffix: String?
    }

    private let rules = Mutex<[Call: Rule]>([:])
    private let trace = Mutex<[(call: Call, path: String)]?>(nil)

    package init() {}

    /// Arms `call` to fail with `errno` on its `after`-th use, for `times` calls.
    package func fail(_ call: Call, errno: Int32, after: Int = 1, times: Int = 1, partialBytes: Int = 0, pathSuffix: String? = nil) {
        rules.withLock { $0[call] = Rule(after: after, times: times, errno: errno, partialBytes: partialBytes, pathSuffix: pathSuffix) }
    }

    /// Disarms every rule.
    package func clear() {
        rules.withLock { $0.removeAll() }
    }

    /// Starts recording every call the seam sees, in order (for tests of call ordering).
    package func startRecording() {
        trace.withLock { $0 = [] }
    }

    /// The calls seen since ``startRecording()``.
    package var recordedCalls: [(call: Call, path: String)] {
        trace.withLock { $0 ?? [] }
    }

    /// Whether `call` on `path` must fail now; returns the errno and, for writes, the bytes to write first.
    func check(_ call: Call, path: String) -> (errno: Int32, partialBytes: Int)? {
        trace.withLock { $0?.append((call, path)) }
        return rules.withLock { rules in
            guard var rule = rules[call] else { return nil }
            if let suffix = rule.pathSuffix, !path.hasSuffix(suffix) { return nil }
            if rule.after > 1 {
                rule.after -= 1
                rules[call] = rule
                return nil
            }
            rule.times -= 1
            if rule.times <= 0 { rules[call] = nil } else { rules[call] = rule }
            return (rule.errno, rule.partialBytes)
        }
    }
}
