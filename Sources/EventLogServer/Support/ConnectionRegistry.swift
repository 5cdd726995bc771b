import NIOCore
import Synchronization

/// The server's open connections, from their accept to their close: counted for
/// ``LogServerConfiguration/maxConnections``, and closed when a graceful shutdown's grace
/// period ends (``closeAll(after:)``).
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        /// When every connection is closed, once a shutdown began.
        var closeDeadline: NIODeadline?
    }

    private let state = Mutex(State())
    private let open = Atomic<Int>(0)

    /// The open connections now.
    var current: Int { open.load(ordering: .relaxed) }

    /// Counts `channel` until it closes; during a shutdown it is closed at the grace's end too.
    func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let deadline = state.withLock { state -> NIODeadline? in
            state.channels[id] = channel
            return state.closeDeadline
        }
        open.add(1, ordering: .relaxed)
        channel.closeFuture.whenComplete { [self] _ in
            open.subtract(1, ordering: .relaxed)
            _ = state.withLock { $0.channels.removeValue(forKey: id) }
        }
        if let deadline { Self.close(channel, at: deadline) }
    }

    /// Closes every connection still open when `grace` has passed, and any opened meanwhile:
    /// streams stuck on a client that reads nothing, bodies that never end, heads that never
    /// end. Their clients resume or retry; nothing acknowledged is lost.
    func closeAll(after grace: Duration) {
        let deadline = NIODeadline.now() + TimeAmount(grace)
        let channels = state.withLock { state -> [any Channel] in
            state.closeDeadline = deadline
            return Array(state.channels.values)
        }
        for channel in channels { Self.close(channel, at: deadline) }
    }

    private static func close(_ channel: any Channel, at deadline: NIODeadline) {
        channel.eventLoop.scheduleTask(deadline: deadline) {
            channel.close(promise: nil)
        }
    }
}
