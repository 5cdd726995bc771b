#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The seam through which tests make system calls fail on purpose, or slow them down.
///
/// Every write, sync and truncate of the storage engine, and every read from the page cache
/// only, asks the injector first; a rule armed for that call makes it fail with the given
/// `errno` (or write or read only part of its bytes, as a full disk or a partly cached range
/// does), and a delay set for it makes it take that much longer (a slow disk, ``slow(_:by:)``).
/// Production stores have no injector.
package final class FaultInjector: Sendable {
    /// The system calls that can be made to fail.
    package enum Call: Hashable, Sendable {
        case pwrite, fdatasync, ftruncate, open, flock
        /// `mkdir(2)` of a directory.
        case mkdir
        /// `fsync(2)` of a directory (making creations and renames in it durable).
        case fsyncDirectory
        /// `preadv2(2)` with `RWF_NOWAIT` (a read from the page cache only): a rule makes it
        /// answer as if the bytes were not in memory (any `errno`; `EAGAIN` is the kernel's),
        /// or, with `partialBytes`, read only that many of them (a short read).
        case preadCached
    }

    package struct Rule: Sendable {
        /// Fail the n-th matching call from now (1 = the next one).
        var after: Int
        /// How many calls fail once it fires (`Int.max`: until cleared).
        var times: Int
        /// The errno returned.
        var errno: Int32
        /// For `pwrite`: how many bytes to write before failing (a torn write); for
        /// `preadCached`, how many to read (a short read).
        var partialBytes: Int
        /// Only calls on files whose path has this suffix.
        var pathSuffix: String?
    }

    /// A change to the file system, as the power-cut tests replay them (``startJournal()``).
    ///
    /// Writes, truncations, creations, renames and removals are journaled once they are done;
    /// syncs before they start. So a sync covers exactly the writes journaled before it that
    /// the kernel had finished when the sync began.
    package enum DiskOperation: Sendable {
        /// `open(2)` with `O_CREAT` (a new, empty file unless the path exists).
        case create(path: String)
        case write(path: String, offset: Int64, bytes: [UInt8])
        case truncate(path: String, size: Int64)
        /// `fdatasync(2)` of a file: its data and size are on stable storage.
        case sync(path: String)
        case mkdir(path: String)
        /// `fsync(2)` of a directory: its entries (creations, renames, removals) are durable.
        case syncDirectory(path: String)
        case rename(from: String, to: String)
        case unlink(path: String)
    }

    private let rules = Mutex<[Call: Rule]>([:])
    private let delays = Mutex<[Call: Duration]>([:])
    private let trace = Mutex<[(call: Call, path: String)]?>(nil)
    private let journal = Mutex<[DiskOperation]?>(nil)

    package init() {}

    /// Arms `call` to fail with `errno` on its `after`-th use, for `times` calls.
    package func fail(_ call: Call, errno: Int32, after: Int = 1, times: Int = 1, partialBytes: Int = 0, pathSuffix: String? = nil) {
        rules.withLock { $0[call] = Rule(after: after, times: times, errno: errno, partialBytes: partialBytes, pathSuffix: pathSuffix) }
    }

    /// Disarms every rule and delay.
    package func clear() {
        rules.withLock { $0.removeAll() }
        delays.withLock { $0.removeAll() }
    }

    /// Makes every `call` from now on take `delay` longer (the calling thread sleeps before
    /// the call), as a slow disk's syncs do; `.zero` removes the delay.
    package func slow(_ call: Call, by delay: Duration) {
        delays.withLock { $0[call] = delay == .zero ? nil : delay }
    }

    /// Starts recording every call the seam sees, in order (for tests of call ordering).
    package func startRecording() {
        trace.withLock { $0 = [] }
    }

    /// The calls seen since ``startRecording()``.
    package var recordedCalls: [(call: Call, path: String)] {
        trace.withLock { $0 ?? [] }
    }

    /// Starts journaling every change to the file system, with the bytes written.
    package func startJournal() {
        journal.withLock { $0 = [] }
    }

    /// How many operations are journaled so far: a point in time that acknowledgements can be
    /// compared with (an operation journaled before it finished before it was read).
    package var journalCount: Int {
        journal.withLock { $0?.count ?? 0 }
    }

    /// The operations journaled since ``startJournal()``.
    package var journaledOperations: [DiskOperation] {
        journal.withLock { $0 ?? [] }
    }

    func note(_ operation: @autoclosure () -> DiskOperation) {
        journal.withLock { if $0 != nil { $0!.append(operation()) } }
    }

    /// Whether `call` on `path` must fail now; returns the errno and, for writes, the bytes to write first.
    func check(_ call: Call, path: String) -> (errno: Int32, partialBytes: Int)? {
        trace.withLock { $0?.append((call, path)) }
        if let delay = delays.withLock({ $0[call] }) {
            var pause = timespec(tv_sec: Int(delay.components.seconds), tv_nsec: Int(delay.components.attoseconds / 1_000_000_000))
            var left = timespec()
            while nanosleep(&pause, &left) != 0, errno == EINTR { pause = left }
        }
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
