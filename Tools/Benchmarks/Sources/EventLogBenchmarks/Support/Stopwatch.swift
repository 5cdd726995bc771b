#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Wall-clock and CPU-time readings for one measured interval.
///
/// Wall time comes from `clock_gettime(CLOCK_MONOTONIC)`; CPU time is the whole process's
/// user + system time from `getrusage(RUSAGE_SELF)`, so it counts the library's I/O threads too.
struct Stopwatch {
    private let startNanos: UInt64
    private let startCPU: Double

    /// Starts measuring now.
    init() {
        startCPU = Self.processCPUSeconds()
        startNanos = Self.monotonicNanoseconds()
    }

    /// Wall seconds since start.
    var elapsedSeconds: Double { Double(Self.monotonicNanoseconds() - startNanos) / 1e9 }

    /// Process CPU seconds (user + system, every thread) since start.
    var cpuSeconds: Double { Self.processCPUSeconds() - startCPU }

    /// The whole interval: wall seconds, CPU seconds, and CPU utilisation as a fraction of every core.
    func stop() -> Interval {
        let wall = elapsedSeconds
        let cpu = cpuSeconds
        return Interval(seconds: wall, cpuSeconds: cpu)
    }

    /// A measured interval.
    struct Interval {
        var seconds: Double
        var cpuSeconds: Double
        /// CPU time over wall time and cores: 1.0 means every core was busy the whole time.
        var utilisation: Double { seconds > 0 ? cpuSeconds / (seconds * Double(Machine.cores)) : 0 }
    }

    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    @inline(__always)
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// User + system CPU seconds of the process, from `getrusage(2)`.
    #if canImport(Glibc)
    private static let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    private static let RUSAGE_SELF_WHO = RUSAGE_SELF
    #endif

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF_WHO, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
