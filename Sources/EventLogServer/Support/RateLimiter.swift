import Synchronization

/// A token bucket per client (token or address): `rate` requests per second, bursts of `rate`.
///
/// The table of clients is bounded: when it grows past `maxClients`, buckets that have
/// refilled completely (idle clients) are dropped.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let maxClients = 100_000
    private let buckets = Mutex<[String: Bucket]>([:])

    init(requestsPerSecond: Double) {
        self.rate = requestsPerSecond
        self.burst = max(1, requestsPerSecond)
    }

    /// Takes one request from `client`'s bucket; returns `nil` when allowed, else the seconds to wait.
    func acquire(client: String) -> Int? {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            defer {
                buckets[client] = bucket
                if buckets.count > maxClients { prune(&buckets, now: now) }
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }

    private func prune(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        let full = Duration.seconds(burst / rate)
        buckets = buckets.filter { now - $0.value.updated < full }
    }
}
