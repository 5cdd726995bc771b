#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Resumes one waiting task exactly once, from whichever of its wake sources comes first: an
/// append on one of the partitions it waits on, its deadline, its cancellation, a close.
///
/// This is what a reader waiting for records costs: one object, an entry in each partition's
/// waiter table and one in ``WaitTimers`` — no task per partition and no sleeping task for
/// the timeout, which a stream would otherwise create and cancel for every event it waits for.
final class Wakeup: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Bool, Never>?
        var result: Bool?
    }

    private let state = Mutex(State())

    /// Suspends until ``resume(returning:)``; at once when that came first.
    func wait() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let early = state.withLock { s -> Bool? in
                if let result = s.result { return result }
                s.continuation = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }
    }

    /// Wakes the waiter with `value`; only the first call counts.
    func resume(returning value: Bool) {
        let continuation = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard s.result == nil else { return nil }
            s.result = value
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume(returning: value)
    }
}

/// Deadlines of waits, kept by one thread for the whole process: it sleeps until the earliest
/// and resumes the waits whose deadline passed with `false`. Deadlines are rounded up to
/// ``quantumNanoseconds``; a wait that ends before its deadline removes its entry.
final class WaitTimers: @unchecked Sendable {
    // @unchecked: every field below `mutex` is guarded by it.
    static let shared = WaitTimers()
    static let quantumNanoseconds: UInt64 = 5_000_000

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Entries by deadline tick, and each entry's tick.
    private var buckets: [UInt64: [UInt64: Wakeup]] = [:]
    private var tickOf: [UInt64: UInt64] = [:]
    /// Ticks that have (or had) a bucket, smallest first at index 0 (a binary heap).
    private var ticks: [UInt64] = []
    private var ticksInHeap: Set<UInt64> = []
    private var nextID: UInt64 = 0
    private var sleepingUntil: UInt64 = .max
    private var thread = pthread_t()

    private init() {
        (mutex, condition) = makeMonotonicCondition()
        let box = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<WaitTimers>.fromOpaque(raw!).takeRetainedValue().loop()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Resumes `wakeup` with `false` once `timeout` has passed; returns the entry's id for
    /// ``cancel(_:)``.
    func schedule(_ wakeup: Wakeup, after timeout: Duration) -> UInt64 {
        let c = timeout.components
        let ns = c.seconds >= Int64(UInt64.max / 2_000_000_000) ? UInt64.max / 2 : UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds / 1_000_000_000))
        let deadline = Self.now() &+ ns
        let tick = (deadline + Self.quantumNanoseconds - 1) / Self.quantumNanoseconds
        pthread_mutex_lock(mutex)
        nextID += 1
        let id = nextID
        if ticksInHeap.insert(tick).inserted { push(tick) }
        buckets[tick, default: [:]][id] = wakeup
        tickOf[id] = tick
        if tick * Self.quantumNanoseconds < sleepingUntil { pthread_cond_signal(condition) }
        pthread_mutex_unlock(mutex)
        return id
    }

    /// Forgets entry `id` (its wait ended otherwise).
    func cancel(_ id: UInt64) {
        pthread_mutex_lock(mutex)
        if let tick = tickOf.removeValue(forKey: id) {
            buckets[tick]?[id] = nil
            if buckets[tick]?.isEmpty == true { buckets[tick] = nil }
        }
        pthread_mutex_unlock(mutex)
    }

    /// How many deadlines are pending (tests).
    var pendingCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return tickOf.count
    }

    private func loop() {
        pthread_mutex_lock(mutex)
        while true {
            let now = Self.now()
            var due: [Wakeup] = []
            while let first = ticks.first, first * Self.quantumNanoseconds <= now {
                pop()
                if let bucket = buckets.removeValue(forKey: first) {
                    for (id, wakeup) in bucket {
                        tickOf[id] = nil
                        due.append(wakeup)
                    }
                }
            }
            if !due.isEmpty {
                pthread_mutex_unlock(mutex)
                for wakeup in due { wakeup.resume(returning: false) }
                pthread_mutex_lock(mutex)
                continue
            }
            // Sleep until the earliest live deadline (empty buckets are skipped).
            while let first = ticks.first, buckets[first] == nil { pop() }
            if let first = ticks.first {
                sleepingUntil = first * Self.quantumNanoseconds
                var ts = timespec(tv_sec: Int(sleepingUntil / 1_000_000_000), tv_nsec: Int(sleepingUntil % 1_000_000_000))
                _ = pthread_cond_timedwait(condition, mutex, &ts)
            } else {
                sleepingUntil = .max
                pthread_cond_wait(condition, mutex)
            }
        }
    }

    // A binary min-heap of ticks.
    private func push(_ tick: UInt64) {
        ticks.append(tick)
        var i = ticks.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard ticks[parent] > ticks[i] else { break }
            ticks.swapAt(parent, i)
            i = parent
        }
    }

    private func pop() {
        ticksInHeap.remove(ticks[0])
        ticks.swapAt(0, ticks.count - 1)
        ticks.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < ticks.count, ticks[l] < ticks[smallest] { smallest = l }
            if r < ticks.count, ticks[r] < ticks[smallest] { smallest = r }
            if smallest == i { return }
            ticks.swapAt(i, smallest)
            i = smallest
        }
    }
}
