import Synchronization

/// Remembers, per topic, caller and `Idempotency-Key`, the fingerprint of the request's body
/// and its first successful answer.
///
/// A repeat with the same fingerprint gets that answer again (byte for byte) and appends
/// nothing; a repeat with another fingerprint is a conflict (`409 idempotency_key_reused`). A
/// repeat that arrives while the first is still being appended waits for its answer (or,
/// when the first fails, claims the key itself); one with another fingerprint is a conflict
/// at once.
///
/// Bounded: an answer is kept for the window (10 minutes by default) and at most ``maxKeys``
/// answers of at most ``maxBytes`` in total are kept, the oldest forgotten first. A request in
/// flight holds its key until it completes or fails, and is not counted: there are at most as
/// many as requests in flight. Failed requests are not remembered.
///
/// This is the fast path, and the memory of the process only: what survives a restart, or an
/// answer forgotten early, is the engine's producer state (``IdempotentRequest``), which
/// answers a retry with the same offsets and refuses another body in the same way.
final class IdempotencyCache: Sendable {
    /// Whose key, and for which topic.
    struct Key: Hashable, Sendable {
        var topic: String
        var caller: Caller
        var key: String
    }

    /// The outcome of claiming a key.
    enum Claim: Sendable {
        /// The key is new: do the work, then ``complete(_:answer:)`` or ``abandon(_:)``.
        case claimed
        /// The first answer, to send again.
        case answered([UInt8])
        /// The key was used with another fingerprint (another body).
        case conflict
    }

    private enum Entry {
        case pending(fingerprint: [UInt8], waiters: [CheckedContinuation<[UInt8]?, Never>])
        case done(fingerprint: [UInt8], answer: [UInt8], expires: ContinuousClock.Instant, cost: Int)
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// The completed keys, in completion order, which is expiry order (one window for
        /// all); from `orderStart` on. A pending key is not in it until it completes.
        var order: [Key] = []
        var orderStart = 0
        /// Completed entries, and their cost in bytes.
        var doneCount = 0
        var bytes = 0
    }

    private let window: Duration
    /// The most completed keys kept.
    let maxKeys: Int
    /// The most bytes of completed keys kept (answers, names, fingerprints).
    let maxBytes: Int
    private let state = Mutex(State())

    init(window: Duration, maxKeys: Int, maxBytes: Int) {
        self.window = window
        self.maxKeys = max(1, maxKeys)
        self.maxBytes = max(1024, maxBytes)
    }

    /// How many answers are kept and their bytes (tests).
    var usage: (keys: Int, bytes: Int, order: Int) {
        state.withLock { ($0.doneCount, $0.bytes, $0.order.count - $0.orderStart) }
    }

    /// Claims `key` for a request of `fingerprint`, or returns the first answer (waiting while
    /// it is being made), or a conflict when the key was used with another fingerprint.
    func claim(_ key: Key, fingerprint: [UInt8]) async -> Claim {
        while true {
            enum Step { case claimed, answered([UInt8]), conflict, wait }
            let step: Step = state.withLock { s in
                Self.evict(&s, now: .now, maxKeys: maxKeys, maxBytes: maxBytes)
                switch s.entries[key] {
                case .done(let first, let answer, _, _)?:
                    return first == fingerprint ? .answered(answer) : .conflict
                case .pending(let first, _)?:
                    return first == fingerprint ? .wait : .conflict
                case nil:
                    s.entries[key] = .pending(fingerprint: fingerprint, waiters: [])
                    return .claimed
                }
            }
            switch step {
            case .claimed: return .claimed
            case .answered(let answer): return .answered(answer)
            case .conflict: return .conflict
            case .wait:
                let answer = await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8]?, Never>) in
                    let resumeWith: [UInt8]?? = state.withLock { s in
                        switch s.entries[key] {
                        case .pending(let first, var waiters)?:
                            waiters.append(continuation)
                            s.entries[key] = .pending(fingerprint: first, waiters: waiters)
                            return .none
                        case .done(_, let answer, _, _)?:
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

    /// Stores the answer for a claimed key and hands it to every waiting repeat. An answer
    /// larger than ``maxBytes`` is handed out but not kept.
    func complete(_ key: Key, answer: [UInt8]) {
        let waiters = state.withLock { s -> [CheckedContinuation<[UInt8]?, Never>] in
            guard case .pending(let fingerprint, let waiters)? = s.entries[key] else { return [] }
            let cost = answer.count + fingerprint.count + key.topic.utf8.count + key.key.utf8.count + key.caller.digest.count + 128
            if cost > maxBytes {
                s.entries[key] = nil
                return waiters
            }
            let now = ContinuousClock.now
            s.entries[key] = .done(fingerprint: fingerprint, answer: answer, expires: now + window, cost: cost)
            s.order.append(key)
            s.doneCount += 1
            s.bytes += cost
            Self.evict(&s, now: now, maxKeys: maxKeys, maxBytes: maxBytes)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: answer) }
    }

    /// Releases a claimed key after a failure; a waiting repeat then tries for itself.
    func abandon(_ key: Key) {
        let waiters = state.withLock { s -> [CheckedContinuation<[UInt8]?, Never>] in
            guard case .pending(_, let waiters)? = s.entries[key] else { return [] }
            s.entries[key] = nil
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Forgets every key of a topic (it was deleted).
    func forget(topic: String) {
        let pending = state.withLock { s -> [CheckedContinuation<[UInt8]?, Never>] in
            var waiters: [CheckedContinuation<[UInt8]?, Never>] = []
            for (key, entry) in s.entries where key.topic == topic {
                switch entry {
                case .pending(_, let w): waiters += w
                case .done(_, _, _, let cost):
                    s.doneCount -= 1
                    s.bytes -= cost
                }
                s.entries[key] = nil
            }
            s.order = s.order[s.orderStart...].filter { $0.topic != topic }
            s.orderStart = 0
            return waiters
        }
        for waiter in pending { waiter.resume(returning: nil) }
    }

    /// Forgets completed keys from the oldest: expired ones, and any over the bounds.
    private static func evict(_ s: inout State, now: ContinuousClock.Instant, maxKeys: Int, maxBytes: Int) {
        while s.orderStart < s.order.count {
            let oldest = s.order[s.orderStart]
            guard case .done(_, _, let expires, let cost)? = s.entries[oldest] else {
                preconditionFailure("the order of idempotency keys holds a key that is not completed")
            }
            guard expires <= now || s.doneCount > maxKeys || s.bytes > maxBytes else { break }
            s.entries[oldest] = nil
            s.doneCount -= 1
            s.bytes -= cost
            s.orderStart += 1
        }
        if s.orderStart > 1024, s.orderStart * 2 > s.order.count {
            s.order.removeFirst(s.orderStart)
            s.orderStart = 0
        }
    }
}
