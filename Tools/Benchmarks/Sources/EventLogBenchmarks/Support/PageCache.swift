#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Control and inspection of the kernel's page cache for the files a scenario reads.
enum PageCache {
    /// Evicts the clean cached pages of `files` with `posix_fadvise(POSIX_FADV_DONTNEED)`.
    static func evict(_ files: [String]) {
        for f in files {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
            close(fd)
        }
    }

    /// Reads `files` once from start to end so that they are cached (a warm cache).
    static func warm(_ files: [String]) {
        _ = readWhole(files)
    }

    /// Reads `files` with 1 MiB `pread`s, start to end: the plain-`pread` baseline of the read
    /// scenarios (and what warms the cache). Returns the bytes read.
    static func readWhole(_ files: [String]) -> Int64 {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        for f in files {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            var at: off_t = 0
            while true {
                let n = pread(fd, buffer, chunk, at)
                if n <= 0 { break }
                at += off_t(n)
            }
            total += Int64(at)
            close(fd)
        }
        return total
    }

    /// The fraction of the pages of `files` that are in the page cache (`mincore(2)`).
    static func residentFraction(_ files: [String]) -> Double {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var resident = 0, total = 0
        for f in files {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_size > 0 else { continue }
            let size = Int(st.st_size)
            guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { continue }
            defer { munmap(map, size) }
            let pages = (size + page - 1) / page
            var vec = [UInt8](repeating: 0, count: pages)
            guard mincore(map, size, &vec) == 0 else { continue }
            total += pages
            resident += vec.reduce(0) { $0 + Int($1 & 1) }
        }
        return total == 0 ? 0 : Double(resident) / Double(total)
    }

    /// Writes `3` to `/proc/sys/vm/drop_caches` after `sync(2)`; false when not permitted.
    static func dropAll() -> Bool {
        sync()
        let fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let ok: Bool = "3\n".utf8CString.withUnsafeBufferPointer { p in write(fd, p.baseAddress, 2) == 2 }
        return ok
    }
}
