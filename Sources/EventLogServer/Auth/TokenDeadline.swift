/// When a stream's token (a JWT's `exp`) stops being valid: the stream ends then with a
/// `token_expired` notice carrying its cursor, so that the client reconnects with a fresh
/// token and resumes where it stopped, instead of reading on with an expired grant.
struct TokenDeadline: Sendable {
    /// The moment, on the monotonic clock.
    let instant: ContinuousClock.Instant

    /// The furthest a deadline is set, whatever `exp` says: ten years.
    static let maxMilliseconds: Int64 = 10 * 365 * 86_400_000

    /// The deadline of a token expiring at `expiresAtSeconds` (since the epoch, as `exp`),
    /// measured from `nowMilliseconds`. A time already past is now; a far one is capped.
    init(expiresAtSeconds: Double, nowMilliseconds: Int64) {
        let remaining = (expiresAtSeconds * 1000 - Double(nowMilliseconds)).rounded(.up)
        let milliseconds = remaining.isNaN ? 0 : Int64(min(max(remaining, 0), Double(Self.maxMilliseconds)))
        instant = .now + .milliseconds(milliseconds)
    }

    /// Whether the token has expired.
    var hasPassed: Bool { ContinuousClock.now >= instant }

    /// `wait`, or less when the token expires sooner (so a waiting stream wakes at the expiry).
    func capping(_ wait: Duration) -> Duration {
        let remaining = instant - ContinuousClock.now
        return max(.milliseconds(1), min(wait, remaining))
    }
}
