#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Directory and file operations outside the hot path, without Foundation.
package enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Makes `path` and any missing parents, syncing the parent of each directory it makes
    /// so that the new entry survives a power loss.
    static func createDirectory(_ path: String, faults: FaultInjector? = nil) throws(LogError) {
        if isDirectory(path) { return }
        var parent = path.hasPrefix("/") ? "/" : "."
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if !isDirectory(prefix) {
                if let fault = faults?.check(.mkdir, path: prefix) { throw ioError("mkdir", fault.errno, path: prefix) }
                if mkdir(prefix, 0o755) != 0 {
                    if errno != EEXIST { throw ioError("mkdir", errno, path: prefix) }
                } else {
                    faults?.note(.mkdir(path: prefix))
                    try syncDirectory(parent, faults: faults)
                }
            }
            parent = prefix
            prefix += "/"
        }
    }

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

    /// The names in a directory, sorted, without `.` and `..`.
    package static func list(_ path: String) throws(LogError) -> [String] {
        guard let dir = opendir(path) else { throw ioError("opendir", errno, path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String, faults: FaultInjector? = nil) throws(LogError) {
        if unlink(path) != 0 {
            if errno != ENOENT { throw ioError("unlink", errno, path: path) }
        } else {
            faults?.note(.unlink(path: path))
        }
    }

    /// Removes a directory tree (no symlinks followed).
    static func removeTree(_ path: String) throws(LogError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in try list(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw ioError("rmdir", errno, path: path) }
        } else {
            try remove(path)
        }
    }

    /// Whether no segment file (`*.log`) in the tree under `path` holds a byte (no symlinks
    /// followed): the mark of a topic whose creation a crash interrupted, as against a topic
    /// whose `topic.conf` went missing.
    static func holdsNoLogBytes(_ path: String) throws(LogError) -> Bool {
        for name in try list(path) {
            let child = path + "/" + name
            var st = stat()
            guard lstat(child, &st) == 0 else { throw ioError("stat", errno, path: child) }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                if try !holdsNoLogBytes(child) { return false }
            } else if name.hasSuffix(".log"), st.st_size > 0 {
                return false
            }
        }
        return true
    }

    static func rename(_ from: String, _ to: String, faults: FaultInjector? = nil) throws(LogError) {
        if Glibc.rename(from, to) != 0 { throw ioError("rename", errno, path: from) }
        faults?.note(.rename(from: from, to: to))
    }

    /// Syncs a directory so that creations, renames and removals in it are durable.
    static func syncDirectory(_ path: String, faults: FaultInjector? = nil) throws(LogError) {
        if let fault = faults?.check(.fsyncDirectory, path: path) { throw ioError("fsync", fault.errno, path: path) }
        faults?.note(.syncDirectory(path: path))
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open", errno, path: path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw ioError("fsync", errno, path: path) }
    }

    /// Writes a small file atomically: temporary file, `fdatasync`, rename, directory sync.
    ///
    /// `crashPoints` names the two crash points on the way (``CrashPoints``): `<name>.synced`
    /// (the temporary file synced, not renamed) and `<name>.renamed` (renamed, the directory
    /// not yet synced).
    static func writeAtomically(_ path: String, _ bytes: [UInt8], directory: String, faults: FaultInjector? = nil,
                                crashPoints: CrashPoints.Pair = .atomicWrite) throws(LogError) {
        let tmp = path + ".tmp"
        let file = try FileHandle.open(tmp, create: true, faults: faults)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
        try file.sync()
        CrashPoints.hit(crashPoints.synced)
        try rename(tmp, path, faults: faults)
        CrashPoints.hit(crashPoints.renamed)
        try syncDirectory(directory, faults: faults)
    }

    /// Reads a whole small file, or `nil` when it does not exist.
    static func readFile(_ path: String) throws(LogError) -> [UInt8]? {
        guard exists(path) else { return nil }
        let file = try FileHandle.open(path, readOnly: true)
        return try file.read(count: Int(try file.size()), at: 0)
    }

    /// The current time in milliseconds since the Unix epoch.
    static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// A monotonic clock in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
