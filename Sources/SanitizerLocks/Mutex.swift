// A lock ThreadSanitizer understands, for sanitizer builds only (Docs/RELIABILITY.md,
// "Sanitizers"). On Linux, `Synchronization.Mutex` is a futex the sanitizer does not see, so
// every access it guards looks like a race (Tests/sanitizers/tsan-mutex-reproducer.swift).
// Built with `-DTSAN_LOCKS` (`make sanitize`), each module that guards state with `Mutex`
// declares `typealias Mutex<Value> = SanitizerLocks.Mutex<Value>` (a declaration of the module
// itself shadows `Synchronization.Mutex`; one of another imported module would only be
// ambiguous), and the same call sites lock a `pthread_mutex_t`, which the sanitizer intercepts.
// Without the flag this module is empty and nothing changes.
#if TSAN_LOCKS
#if canImport(Glibc)
import Glibc
#else
#error("SanitizerLocks is built on Linux only (Package.swift)")
#endif

/// The subset of `Synchronization.Mutex`'s API the project uses, over a `pthread_mutex_t`:
/// for ThreadSanitizer builds (`-DTSAN_LOCKS`) only, never in a normal build.
///
/// The lock and the value live on the heap and never move, as a `pthread_mutex_t` requires.
public struct Mutex<Value: ~Copyable>: ~Copyable, @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    /// Creates a mutex guarding `initialValue`.
    public init(_ initialValue: consuming sending Value) {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(lock, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        value = .allocate(capacity: 1)
        value.initialize(to: initialValue)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Calls `body` with the guarded value while holding the lock (`pthread_mutex_lock(3)`).
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value.pointee)
    }

    /// Calls `body` with the guarded value if the lock is free (`pthread_mutex_trylock(3)`);
    /// returns `nil` without calling it otherwise.
    public borrowing func withLockIfAvailable<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result? {
        guard pthread_mutex_trylock(lock) == 0 else { return nil }
        defer { pthread_mutex_unlock(lock) }
        return try body(&value.pointee)
    }
}
#endif
