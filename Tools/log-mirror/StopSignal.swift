import Glibc
import Synchronization

/// Set by SIGTERM and SIGINT: the mirror finishes the batch in flight, commits and exits 0.
private let stopRequested = Atomic<Bool>(false)

/// SIGTERM and SIGINT as a flag the mirror's loop checks between requests, and sleeps that end
/// early when it is set.
enum StopSignal {
    /// Installs the handlers (once, before the loop starts).
    static func install() {
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)
    }

    /// Whether a stop was asked for.
    static var isRequested: Bool { stopRequested.load(ordering: .relaxed) }

    /// Sleeps `ms` milliseconds in slices of at most 50 ms, returning early on a stop.
    static func sleep(ms: Int) {
        var left = ms
        while left > 0, !isRequested {
            let slice = min(left, 50)
            var ts = timespec(tv_sec: 0, tv_nsec: slice * 1_000_000)
            nanosleep(&ts, nil)
            left -= slice
        }
    }
}
