internal import CSysShims
#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// The text of an `errno` value.
func errorString(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "error \(code)" }
    return String(cString: s)
}

/// Maps a failed call to a ``LogError``: `ENOSPC`/`EDQUOT` to ``LogError/Code/diskFull``.
func ioError(_ call: String, _ code: Int32, path: String) -> LogError {
    let errno = SystemError(call, code)
    if code == ENOSPC || code == EDQUOT {
        return LogError(.diskFull, "the disk is full: \(call) on \(path) failed (\(errorString(code))).", cause: errno)
    }
    return LogError(.ioError, "\(call) on \(path) failed: \(errorString(code)).", cause: errno)
}

/// An open file, used with positional I/O only (`pread(2)`, `pwrite(2)`), so one handle is
/// shared by the writer and any number of readers without a shared file position.
///
/// The descriptor closes when the last reference goes: a reader that still holds a segment
/// deleted by retention or replaced by compaction keeps reading the unlinked file safely.
final class FileHandle: Sendable {
    let fd: Int32
    let path: String
    let faults: FaultInjector?

    private init(fd: Int32, path: String, faults: FaultInjector?) {
        self.fd = fd
        self.path = path
        self.faults = faults
    }

    deinit { _ = Glibc.close(fd) }

    /// Opens `path`; `create` makes it when missing; `readOnly` never writes.
    static func open(_ path: String, create: Bool = false, readOnly: Bool = false, faults: FaultInjector? = nil) throws(LogError) -> FileHandle {
        if let fault = faults?.check(.open, path: path) { throw ioError("open", fault.errno, path: path) }
        var flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw ioError("open", errno, path: path) }
        if create { faults?.note(.create(path: path)) }
        return FileHandle(fd: fd, path: path, faults: faults)
    }

    /// The file's size from `fstat(2)`.
    func size() throws(LogError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError("fstat", errno, path: path) }
        return Int64(st.st_size)
    }

    /// Writes all of `bytes` at `offset`, retrying short writes; throws on the first failure.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(LogError) {
        var done = 0
        if let fault = faults?.check(.pwrite, path: path) {
            if fault.partialBytes > 0, let base = bytes.baseAddress {
                _ = pwrite(fd, base, min(fault.partialBytes, bytes.count), off_t(offset))
            }
            throw ioError("pwrite", fault.errno, path: path)
        }
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("pwrite", errno, path: path)
            }
            if n == 0 { throw ioError("pwrite", ENOSPC, path: path) }
            done += n
        }
        faults?.note(.write(path: path, offset: offset, bytes: Array(bytes)))
    }

    /// The most pieces one `pwritev(2)` takes (Linux's `IOV_MAX`).
    static let maxPieces = 1024

    /// Writes `pieces` one after the other at `offset` with `pwritev(2)`, from where they are
    /// (no gathering copy), retrying short writes; throws on the first failure.
    func write(gathering pieces: [UnsafeRawBufferPointer], at offset: Int64) throws(LogError) {
        if let fault = faults?.check(.pwrite, path: path) {
            if fault.partialBytes > 0 {
                let joined = Self.joined(pieces)
                joined.withUnsafeBytes { _ = pwrite(fd, $0.baseAddress, min(fault.partialBytes, $0.count), off_t(offset)) }
            }
            throw ioError("pwrite", fault.errno, path: path)
        }
        var vectors = pieces.compactMap { piece in
            piece.baseAddress.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0), iov_len: piece.count) }
        }
        var first = 0
        var done: Int64 = 0
        while first < vectors.count {
            let n = vectors.withUnsafeMutableBufferPointer { v in
                pwritev(fd, v.baseAddress! + first, Int32(min(v.count - first, Self.maxPieces)), off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("pwrite", errno, path: path)
            }
            if n == 0 { throw ioError("pwrite", ENOSPC, path: path) }
            done += Int64(n)
            // Skip what was written: whole pieces, then part of the next.
            var left = n
            while left > 0, first < vectors.count {
                if left >= vectors[first].iov_len {
                    left -= vectors[first].iov_len
                    first += 1
                } else {
                    vectors[first].iov_base += left
                    vectors[first].iov_len -= left
                    left = 0
                }
            }
        }
        if let faults { faults.note(.write(path: path, offset: offset, bytes: Self.joined(pieces))) }
    }

    private static func joined(_ pieces: [UnsafeRawBufferPointer]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { bytes.append(contentsOf: piece) }
        return bytes
    }

    /// Starts writing `length` bytes at `offset` back to the disk without waiting (Linux
    /// `sync_file_range(SYNC_FILE_RANGE_WRITE)`); best effort, a no-op where unsupported.
    func startWriteback(from offset: Int64, length: Int64) {
        _ = eventlog_start_writeback(fd, offset, length)
    }

    /// Writes an array at `offset`.
    func write(_ bytes: [UInt8], at offset: Int64) throws(LogError) {
        try withBytes(bytes) { raw throws(LogError) in try write(raw, at: offset) }
    }

    /// How a read gets bytes that are not in memory.
    enum ReadMode: Sendable {
        /// `pread(2)`: it waits for the disk.
        case blocking
        /// `preadv2(2)` with `RWF_NOWAIT`: only from the page cache. A read that would wait for
        /// the disk, or could read only part of its bytes, throws ``LogError/wouldBlock``.
        case cachedOnly
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (short only at
    /// end of file). With `mode` `.cachedOnly` it reads all of them from the page cache or
    /// throws ``LogError/wouldBlock`` (also for a range that is not all in the file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, mode: ReadMode = .blocking) throws(LogError) -> Int {
        if mode == .cachedOnly { return try readCached(into: buffer, at: offset) }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("pread", errno, path: path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads all of `buffer` at `offset` from the page cache with one `preadv2(2)` with
    /// `RWF_NOWAIT`, never waiting for the disk; throws ``LogError/wouldBlock`` when the call
    /// cannot read every byte so (not in memory, a page locked, the call unsupported here, or
    /// any failure: the blocking read that follows meets and reports a real one).
    private func readCached(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(LogError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var count = buffer.count
        if let fault = faults?.check(.preadCached, path: path) {
            guard fault.partialBytes > 0 else { throw LogError.wouldBlock }
            count = min(fault.partialBytes, count)
        }
        guard eventlog_pread_cached(fd, base, count, offset) == buffer.count else { throw LogError.wouldBlock }
        return buffer.count
    }

    /// Reads up to `count` bytes at `offset` into a new array (shorter at end of file).
    func read(count: Int, at offset: Int64) throws(LogError) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: LogError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(LogError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Takes an exclusive `flock(2)` on the file without waiting; `false` when another open
    /// file description holds it (in this process or another).
    func tryLockExclusively() throws(LogError) -> Bool {
        if let fault = faults?.check(.flock, path: path) { throw ioError("flock", fault.errno, path: path) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        let code = errno
        if code == EWOULDBLOCK { return false }
        throw ioError("flock", code, path: path)
    }

    /// Releases a lock taken by ``tryLockExclusively()``.
    func unlock() {
        _ = flock(fd, LOCK_UN)
    }

    /// Flushes the file's data to stable storage with `fdatasync(2)`.
    func sync() throws(LogError) {
        if let fault = faults?.check(.fdatasync, path: path) { throw ioError("fdatasync", fault.errno, path: path) }
        faults?.note(.sync(path: path))
        guard fdatasync(fd) == 0 else { throw ioError("fdatasync", errno, path: path) }
    }

    /// Cuts the file to `size` bytes with `ftruncate(2)`.
    func truncate(to size: Int64) throws(LogError) {
        if let fault = faults?.check(.ftruncate, path: path) { throw ioError("ftruncate", fault.errno, path: path) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw ioError("ftruncate", errno, path: path) }
        faults?.note(.truncate(path: path, size: size))
    }
}
