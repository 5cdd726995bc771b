#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Hands out idempotent producer ids (InitProducerId) that are never reused, across restarts
/// too: the wall clock in milliseconds shifted left by 12 bits, or one more than the last id
/// given, whichever is larger.
///
/// A producer id must not be reused, or a new producer's first batches (epoch 0, sequence 0 …)
/// would be taken for retries of an old one's and answered with its offsets. The ids stay below
/// 2^62, so they never meet the ids the HTTP API derives for `Idempotency-Key` (2^62 and up).
/// Reuse is possible only if the clock goes back across a restart by more than the time the
/// ids handed out since then took (4,096 ids per millisecond).
final class ProducerIDAllocator: Sendable {
    private let last = Mutex<Int64>(0)

    /// A new producer id.
    func next() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let candidate = (Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000) << 12
        return last.withLock { last in
            last = max(last + 1, candidate)
            return last
        }
    }
}
