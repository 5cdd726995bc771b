#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// The baseline of a cold random read: one plain `pread(2)` of `chunk` bytes at a uniformly
/// random position of a set of files (the same `.log` files the scenario reads), so that a
/// cold-cache figure can be set against what the device and file system cost by themselves.
final class RawRandomReader {
    private let fds: [Int32]
    private let sizes: [Int64]
    private let total: Int64
    private let chunk: Int
    private let buffer: UnsafeMutableRawPointer
    private var rng: SplitMix64

    init(files: [String], chunk: Int, seed: UInt64) throws {
        var fds: [Int32] = [], sizes: [Int64] = []
        for f in files {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BenchmarkError("cannot open \(f) for the raw read baseline") }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw BenchmarkError("cannot stat \(f)") }
            if st.st_size <= Int64(chunk) {
                close(fd)
                continue
            }
            fds.append(fd)
            sizes.append(Int64(st.st_size))
        }
        guard !fds.isEmpty else { throw BenchmarkError("no file larger than \(chunk) bytes for the raw read baseline") }
        self.fds = fds
        self.sizes = sizes
        self.total = sizes.reduce(0, +)
        self.chunk = chunk
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        self.rng = SplitMix64(seed: seed)
    }

    deinit {
        for fd in fds { close(fd) }
        buffer.deallocate()
    }

    /// One read at a random position (files weighted by size), in nanoseconds.
    func timedRead() throws -> UInt64 {
        var at = Int64(rng.next() % UInt64(total))
        var k = 0
        while at >= sizes[k] {
            at -= sizes[k]
            k += 1
        }
        at = min(at, sizes[k] - Int64(chunk))
        let start = Stopwatch.monotonicNanoseconds()
        let n = pread(fds[k], buffer, chunk, off_t(at))
        let elapsed = Stopwatch.monotonicNanoseconds() - start
        guard n == chunk else { throw BenchmarkError("the raw read baseline read \(n) of \(chunk) bytes") }
        return elapsed
    }
}
