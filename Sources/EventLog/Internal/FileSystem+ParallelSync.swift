#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
import Synchronization

extension FileSystem {
    /// The most threads ``syncDirectories(_:faults:)`` starts.
    static let parallelSyncThreads = 16

    /// Makes one directory, without syncing its parent: the caller makes the new entry durable
    /// (with the parent's sync it does anyway, once for many such directories).
    ///
    /// - Returns: `false` when `path` exists already (nothing was made).
    static func makeDirectory(_ path: String, faults: FaultInjector? = nil) throws(LogError) -> Bool {
        if let fault = faults?.check(.mkdir, path: path) { throw ioError("mkdir", fault.errno, path: path) }
        if mkdir(path, 0o755) != 0 {
            if errno == EEXIST { return false }
            throw ioError("mkdir", errno, path: path)
        }
        faults?.note(.mkdir(path: path))
        return true
    }

    /// Syncs many directories (``syncDirectory(_:faults:)``) from several threads at once, and
    /// returns when every sync has ended.
    ///
    /// A directory `fsync(2)` mostly waits for the file system's journal and the device's cache
    /// flush; issued together, the syncs of hundreds of directories share a few journal commits
    /// instead of paying one each in turn (a new topic of 10,000 partitions: 10,000 syncs).
    ///
    /// - Throws: the first failure, once every thread has ended (the others still sync theirs).
    static func syncDirectories(_ paths: [String], faults: FaultInjector? = nil) throws(LogError) {
        let threadCount = min(parallelSyncThreads, (paths.count + 31) / 32)
        guard threadCount > 1 else {
            for path in paths { try syncDirectory(path, faults: faults) }
            return
        }
        let batch = ParallelSync(paths: paths, faults: faults)
        var threads: [pthread_t] = []
        for _ in 1..<threadCount {
            let box = Unmanaged.passRetained(batch)
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                Unmanaged<ParallelSync>.fromOpaque(raw!).takeRetainedValue().work()
                return nil
            }, box.toOpaque())
            if rc == 0 { threads.append(thread) } else { box.release() }
        }
        // This thread takes its share too: with no thread started, it syncs them all.
        batch.work()
        for thread in threads { pthread_join(thread, nil) }
        if let failure = batch.failure.withLock({ $0 }) { throw failure }
    }
}

/// The shared state of one ``FileSystem/syncDirectories(_:faults:)``: each thread takes the
/// next path until none is left.
private final class ParallelSync: Sendable {
    let paths: [String]
    let faults: FaultInjector?
    let next = Atomic<Int>(0)
    let failure = Mutex<LogError?>(nil)

    init(paths: [String], faults: FaultInjector?) {
        self.paths = paths
        self.faults = faults
    }

    func work() {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard i < paths.count else { return }
            do { try FileSystem.syncDirectory(paths[i], faults: faults) } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
    }
}
