#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// A small pool of dedicated threads for blocking file I/O.
///
/// Writes, syncs and reads run here, never on the cooperative pool or an event loop: an
/// `fdatasync(2)` can block for milliseconds. Jobs run in submission order per thread; a
/// partition's writer is one job at a time (the partition guarantees that), so threads
/// are shared by all partitions.
///
/// Retention and compaction passes, which take seconds (throttled on purpose), run on the
/// pool's ``maintenanceLane``: threads of their own, so that a pass never occupies a thread
/// the append path needs.
final class IOExecutor: @unchecked Sendable {
    // @unchecked: every field is guarded by `mutex`/`condition`, which are pthread objects
    // allocated once and freed in deinit.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [() -> Void] = []
    private var head = 0
    private var stopping = false
    private var threads: [pthread_t] = []
    private var running = 0
    /// Where retention and compaction passes run (`nil` for a lane itself): jobs there never
    /// wait behind, or hold, the threads of this pool.
    let maintenanceLane: IOExecutor?

    /// Starts `threadCount` threads, and `maintenanceThreads` more for the maintenance lane.
    init(threadCount: Int, name: String = "eventlog-io", maintenanceThreads: Int = 0) {
        maintenanceLane = maintenanceThreads > 0 ? IOExecutor(threadCount: maintenanceThreads, name: name + "-cleaner") : nil
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for i in 0..<max(1, threadCount) {
            let box = Unmanaged.passRetained(ThreadStart(executor: self, name: "\(name)-\(i)"))
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
                start.run()
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            threads.append(thread)
        }
    }

    private final class ThreadStart {
        let executor: IOExecutor
        let name: String
        init(executor: IOExecutor, name: String) {
            self.executor = executor
            self.name = name
        }
        func run() {
            executor.workerLoop()
        }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Queues `job` to run on one of the pool's threads; returns false (and drops it) once
    /// the pool is shutting down.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stopping { return false }
        jobs.append(job)
        pthread_cond_signal(condition)
        return true
    }

    /// Runs `body` on the pool and returns its result to the awaiting task.
    ///
    /// - Throws: ``LogError/Code/closed`` once the store closed its pool, or what `body` throws.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let queued = submit {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            if !queued { continuation.resume(throwing: LogError(.closed, "the store is closed.")) }
        }
    }

    /// Finishes queued jobs, then stops and joins every thread (the maintenance lane's too).
    func shutdown() {
        maintenanceLane?.shutdown()
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(condition)
        let toJoin = threads
        threads = []
        pthread_mutex_unlock(mutex)
        for t in toJoin { pthread_join(t, nil) }
    }

    private func workerLoop() {
        while true {
            pthread_mutex_lock(mutex)
            while head == jobs.count && !stopping {
                pthread_cond_wait(condition, mutex)
            }
            if head == jobs.count && stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            pthread_mutex_unlock(mutex)
            job()
        }
    }
}
