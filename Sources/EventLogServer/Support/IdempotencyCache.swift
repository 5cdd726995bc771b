import Synchronization

/// Remembers, per topic and `Idempotency-Key`, the first successful answer to a produce request.
///
/// A repeat within the window gets that answer again and appends nothing. A repeat that
/// arrives while the first is still being appended waits for it. Entries live for the
/// configured window (10 minutes by default) and at most `capacity` per topic are kept, the
/// oldest forgotten first; failed requests are not remembered, so a client may retry them.
/// The memory is the server's own: a restart forgets every key.
final class IdempotencyCache: Sendable {
    /// The outcome of claiming a key.
    enum Claim: Sendable {
        /// The key is new: do the work, then ``complete(topic:key:answer:)`` or ``abandon(topic:key:)``.
        case claimed
        /// The first answer, to send again.
        case answered([UInt8])
    }

    private enum Entry {
        case pending([CheckedContinuation<[UInt8]?, Never>])
        case done(answer: [UInt8], expires: ContinuousClock.Instant)
    }

    private struct TopicKeys {
        var entries: [String: Entry] = [:]
        /// Keys in insertion order, for eviction; may hold keys already removed.
        var order: [String] = []
        var orderStart = 0
    }

    private let window: Duration
    private let capacity: Int
    private let state = Mutex<[String: TopicKeys]>([:])

    init(window: Duration, capacity: Int) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// Claims `key` for `topic`, or returns the first answer (waiting if it is being made).
    func claim(topic: String, key: String) async -> Claim {
        while true {
            enum Step { case claimed, answered([UInt8]), wait }
            let now = ContinuousClock.now
            let step: Step = state.withLock { topics in
                var keys = topics[topic] ?? TopicKeys()
                defer { topics[topic] = keys }
                switch keys.entries[key] {
                case .done(let answer, let expires) where expires > now:
                    return .answered(answer)
                case .pending:
                    return .wait
                default:
                    keys.entries[key] = .pending([])
                    keys.order.append(key)
                    Self.evict(&keys, capacity: capacity, now: now)
                    return .claimed
                }
            }
            switch step {
            case .claimed: return .claimed
            case .answered(let answer): return .answered(answer)
            case .wait:
                let answer = await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8]?, Never>) in
                    let resumeWith: [UInt8]?? = state.withLock { topics in
                        switch topics[topic]?.entries[key] {
                        case .pending(var waiters):
                            waiters.append(continuation)
                            topics[topic]!.entries[key] = .pending(waiters)
                            return .none
                        case .done(let answer, _):
                            return .some(answer)
                        case nil:
                            return .some(nil)
                        }
                    }
                    if let resumeWith { continuation.resume(returning: resumeWith) }
                }
                if let answer { return .answered(answer) }
                // The first request failed: try to claim the key ourselves.
            }
        }
    }

    /// Stores the answer for a claimed key and hands it to every waiting repeat.
    func complete(topic: String, key: String, answer: [UInt8]) {
        let expires = ContinuousClock.now + window
        let waiters = state.withLock { topics -> [CheckedContinuation<[UInt8]?, Never>] in
            guard case .pending(let waiters) = topics[topic]?.entries[key] else { return [] }
            topics[topic]!.entries[key] = .done(answer: answer, expires: expires)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: answer) }
    }

    /// Releases a claimed key after a failure; a waiting repeat then tries for itself.
    func abandon(topic: String, key: String) {
        let waiters = state.withLock { topics -> [CheckedContinuation<[UInt8]?, Never>] in
            guard case .pending(let waiters) = topics[topic]?.entries[key] else { return [] }
            topics[topic]!.entries[key] = nil
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Forgets every key of a topic (it was deleted).
    func forget(topic: String) {
        let pending = state.withLock { topics -> [CheckedContinuation<[UInt8]?, Never>] in
            let removed = topics.removeValue(forKey: topic)
            return removed?.entries.values.flatMap { entry -> [CheckedContinuation<[UInt8]?, Never>] in
                if case .pending(let waiters) = entry { return waiters }
                return []
            } ?? []
        }
        for waiter in pending { waiter.resume(returning: nil) }
    }

    private static func evict(_ keys: inout TopicKeys, capacity: Int, now: ContinuousClock.Instant) {
        while keys.orderStart < keys.order.count {
            let oldest = keys.order[keys.orderStart]
            switch keys.entries[oldest] {
            case nil:
                keys.orderStart += 1
            case .done(_, let expires) where expires <= now || keys.entries.count > capacity:
                keys.entries[oldest] = nil
                keys.orderStart += 1
            default:
                // The oldest entry is live (or pending, which is never evicted): stop.
                compact(&keys)
                return
            }
        }
        compact(&keys)
    }

    private static func compact(_ keys: inout TopicKeys) {
        if keys.orderStart > 1024, keys.orderStart * 2 > keys.order.count {
            keys.order.removeFirst(keys.orderStart)
            keys.orderStart = 0
        }
    }
}
