#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
import Foundation

/// Raw disk measurements without the library: `dd`, a `pwrite` loop, and the `fdatasync` rate.
enum DiskProbe {
    /// Runs `dd if=/dev/zero of=<file> bs=1M count=<n> <flag>` and returns bytes per second, from
    /// the byte count and seconds dd prints (not its rounded rate).
    static func dd(file: String, bytes: Int, flag: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["dd", "if=/dev/zero", "of=\(file)", "bs=1M", "count=\(bytes >> 20)", flag]
        process.environment = ["LC_ALL": "C", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        unlink(file)
        let text = String(decoding: output, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BenchmarkError("dd \(flag) failed: \(text)") }
        return try parseDD(text)
    }

    /// Parses dd's summary line, `536870912 bytes (537 MB, 512 MiB) copied, 0.51 s, 1.0 GB/s`.
    static func parseDD(_ text: String) throws -> Double {
        guard let line = text.split(separator: "\n").last(where: { $0.contains("copied") }) else {
            throw BenchmarkError("cannot find dd's summary in: \(text)")
        }
        let parts = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let bytes = parts.first?.split(separator: " ").first.flatMap({ Double($0) }),
              let secondsPart = parts.first(where: { $0.hasSuffix(" s") }),
              let seconds = Double(secondsPart.dropLast(2)), seconds > 0
        else { throw BenchmarkError("cannot parse dd's summary: \(line)") }
        return bytes / seconds
    }

    /// `pwrite(2)`s `bytes` in 1 MiB buffers, then one `fdatasync(2)`: bytes per second.
    static func pwriteLoop(file: String, bytes: Int) throws -> Double {
        let chunk = 1 << 20
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchmarkError("open \(file): errno \(errno)") }
        defer { close(fd); unlink(file) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        for i in 0..<chunk { buffer[i] = UInt8(truncatingIfNeeded: i &* 31) }
        let watch = Stopwatch()
        var at = 0
        while at < bytes {
            let n = pwrite(fd, buffer.baseAddress, chunk, off_t(at))
            guard n == chunk else { throw BenchmarkError("pwrite: errno \(errno)") }
            at += chunk
        }
        guard fdatasync(fd) == 0 else { throw BenchmarkError("fdatasync: errno \(errno)") }
        return Double(bytes) / watch.elapsedSeconds
    }

    /// Appends 4 KiB with `pwrite(2)` then `fdatasync(2)`, repeatedly for `seconds`: syncs per second.
    static func fdatasyncRate(file: String, seconds: Double) throws -> Double {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchmarkError("open \(file): errno \(errno)") }
        defer { close(fd); unlink(file) }
        let buffer = [UInt8](repeating: 0x5a, count: 4096)
        let watch = Stopwatch()
        var ops = 0
        while watch.elapsedSeconds < seconds {
            let n = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t(ops * 4096)) }
            guard n == 4096, fdatasync(fd) == 0 else { throw BenchmarkError("pwrite/fdatasync: errno \(errno)") }
            ops += 1
        }
        return Double(ops) / watch.elapsedSeconds
    }

    /// Appends 4 KiB with `pwrite(2)` then `fdatasync(2)` for `seconds`, timing each pair into `samples`.
    static func fdatasyncLatencies(file: String, seconds: Double, into samples: inout LatencySamples) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchmarkError("open \(file): errno \(errno)") }
        defer { close(fd); unlink(file) }
        let buffer = [UInt8](repeating: 0x5a, count: 4096)
        let deadline = Stopwatch.monotonicNanoseconds() + UInt64(seconds * 1e9)
        var ops = 0
        while true {
            let start = Stopwatch.monotonicNanoseconds()
            guard start < deadline else { break }
            let n = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t(ops * 4096)) }
            guard n == 4096, fdatasync(fd) == 0 else { throw BenchmarkError("pwrite/fdatasync: errno \(errno)") }
            samples.record(Stopwatch.monotonicNanoseconds() - start)
            ops += 1
        }
    }
}
