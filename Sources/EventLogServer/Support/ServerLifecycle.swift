import Synchronization

/// Whether the server is starting, serving or stopping, and a way for streams to wait for the stop.
///
/// `/healthz` answers `503` unless the phase is ``Phase/running``. Long-lived answers (streams,
/// long polls) race their work against ``waitUntilStopping()`` so that `SIGTERM` ends them at once.
final class ServerLifecycle: Sendable {
    enum Phase: Sendable { case starting, running, stopping }

    private struct State {
        var phase: Phase = .starting
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var stopHandlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    var phase: Phase { state.withLock { $0.phase } }

    func markRunning() {
        state.withLock { if $0.phase == .starting { $0.phase = .running } }
    }

    /// Moves to ``Phase/stopping``, wakes every waiter and runs the stop handlers.
    func beginStopping() {
        let (waiters, handlers) = state.withLock { state in
            state.phase = .stopping
            defer {
                state.waiters = [:]
                state.stopHandlers = []
            }
            return (state.waiters, state.stopHandlers)
        }
        for waiter in waiters.values { waiter.resume() }
        for handler in handlers { handler() }
    }

    /// Runs `handler` when the server begins stopping (at once if it has).
    func onStopping(_ handler: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.phase == .stopping { return true }
            state.stopHandlers.append(handler)
            return false
        }
        if now { handler() }
    }

    /// Returns once the server begins stopping, or when the calling task is cancelled.
    func waitUntilStopping() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.phase == .stopping || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs `operation` unless the server begins stopping first; `nil` when it did.
    func unlessStopping<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                await self.waitUntilStopping()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
