#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// A one-line progress bar on standard error, redrawn at most ten times a second.
///
/// Only made when standard error is a terminal (`isatty(3)`): piped output gets none.
final class ProgressBar {
    private let total: Int64
    private var done: Int64 = 0
    private var sinceCheck: Int64 = 0
    private let started: UInt64
    private var lastDraw: UInt64 = 0
    private var drawn = false

    /// A bar for `total` bytes, or `nil` when standard error is not a terminal or there is little to do.
    static func make(total: Int64, enabled: Bool) -> ProgressBar? {
        guard enabled, total >= 64 << 20, isatty(2) == 1 else { return nil }
        return ProgressBar(total: total)
    }

    private init(total: Int64) {
        self.total = total
        started = Self.now()
    }

    /// Counts `bytes` more as read.
    func advance(by bytes: Int) {
        done += Int64(bytes)
        sinceCheck += Int64(bytes)
        guard sinceCheck >= 4 << 20 else { return }
        sinceCheck = 0
        let now = Self.now()
        guard now - lastDraw >= 100_000_000 else { return }
        lastDraw = now
        draw(now)
    }

    private func draw(_ now: UInt64) {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let seconds = Double(now - started) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds / 1e6 : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let line = "\r[\(bar)] \(Int(fraction * 100))% \(done >> 20)/\(total >> 20) MiB \(Int(rate)) MB/s "
        _ = line.utf8CString.withUnsafeBytes { write(2, $0.baseAddress, $0.count - 1) }
        drawn = true
    }

    /// Erases the bar.
    func finish() {
        guard drawn else { return }
        let clear = "\r" + String(repeating: " ", count: 72) + "\r"
        _ = clear.utf8CString.withUnsafeBytes { write(2, $0.baseAddress, $0.count - 1) }
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
