#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// A dedicated thread that runs a job every so many milliseconds until stopped.
///
/// Used for the background flusher (interval durability, recovery checkpoints); it sleeps
/// on a condition variable, so ``stop()`` wakes it at once.
final class PeriodicThread: @unchecked Sendable {
    // @unchecked: `stopping` is guarded by `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var stopping = false
    private var thread = pthread_t()
    private let intervalMs: Int
    private let job: @Sendable () -> Void

    init(intervalMs: Int, job: @escaping @Sendable () -> Void) {
        self.intervalMs = intervalMs
        self.job = job
        (mutex, condition) = makeMonotonicCondition()
        let box = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<PeriodicThread>.fromOpaque(raw!).takeRetainedValue()
            me.loop()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let ns = Int(deadline.tv_nsec) + intervalMs * 1_000_000
            deadline.tv_sec += ns / 1_000_000_000
            deadline.tv_nsec = ns % 1_000_000_000
            while !stopping {
                if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
            }
            let stop = stopping
            pthread_mutex_unlock(mutex)
            if stop { return }
            job()
        }
    }

    /// Stops the thread and waits for it to end (a running job finishes first); later calls
    /// return at once (a thread is joined once).
    func stop() {
        pthread_mutex_lock(mutex)
        let first = !stopping
        stopping = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        if first { pthread_join(thread, nil) }
    }
}

/// A mutex and a condition variable whose timed waits use `CLOCK_MONOTONIC` (not moved by
/// changes of the wall clock), allocated for a thread that lives as long as its owner.
func makeMonotonicCondition() -> (UnsafeMutablePointer<pthread_mutex_t>, UnsafeMutablePointer<pthread_cond_t>) {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
    var attr = pthread_condattr_t()
    pthread_condattr_init(&attr)
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
    pthread_cond_init(condition, &attr)
    pthread_condattr_destroy(&attr)
    return (mutex, condition)
}
