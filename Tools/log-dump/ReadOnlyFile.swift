#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// A file opened `O_RDONLY` for positional reads (`pread(2)`); never written, never locked.
final class ReadOnlyFile {
    let path: String
    let size: Int64
    private let fd: Int32

    /// Opens `path`; `followSymlink: false` refuses a symbolic link (`O_NOFOLLOW`).
    init(path: String, followSymlink: Bool = false) throws(DumpError) {
        var flags = O_RDONLY | O_CLOEXEC
        if !followSymlink { flags |= O_NOFOLLOW }
        let fd = open(path, flags)
        guard fd >= 0 else { throw DumpError("cannot open \(path): \(Self.errorText(errno)).") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw DumpError("cannot read \(path): \(Self.errorText(code)).")
        }
        self.fd = fd
        self.path = path
        self.size = Int64(st.st_size)
    }

    deinit { close(fd) }

    /// Reads up to `count` bytes at `offset` (fewer at the end of the file).
    func read(count: Int, at offset: Int64) throws(DumpError) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                done += n
            }
            initialized = done
        }
        if failure != 0 { throw DumpError("cannot read \(path): \(Self.errorText(failure)).") }
        return bytes
    }

    /// The whole file (index files: small).
    func readAll() throws(DumpError) -> [UInt8] {
        try read(count: Int(size), at: 0)
    }

    static func errorText(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "error \(code)" }
        return String(cString: s)
    }
}
