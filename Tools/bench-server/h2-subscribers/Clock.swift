#if canImport(Glibc)
import Glibc
#else
#error("h2-subscribers is built and run on Linux only (clock_gettime(2) clocks as the publisher's).")
#endif

/// The two clocks the benchmark compares with its publisher's: `CLOCK_REALTIME` (Python's
/// `time.time_ns()`, which stamps each message) and `CLOCK_MONOTONIC` (Python's
/// `time.perf_counter()` on Linux, with which the publisher times its first publish).
enum Clock {
    /// Nanoseconds since the epoch, from `clock_gettime(2)` with `CLOCK_REALTIME`.
    static func realtimeNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
    }

    /// Seconds, from `clock_gettime(2)` with `CLOCK_MONOTONIC`.
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
