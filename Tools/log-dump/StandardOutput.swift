#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Buffered writes to a file descriptor with `write(2)`: records can run to millions of lines.
final class StandardOutput {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let capacity = 64 << 10

    init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(capacity + 4096)
    }

    deinit { flush() }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= capacity { flush() }
    }

    func line(_ s: String) {
        write(s)
        buffer.append(0x0A)
    }

    func flush() {
        var done = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    // A reader that went away (head, a closed pipe): stop quietly.
                    if errno == EPIPE { exit(0) }
                    return
                }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
