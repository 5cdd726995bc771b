public import NIOCore

/// A request context that knows its connection, so that a stream stuck on a client that
/// stopped reading can be closed (``LogServerConfiguration/stuckStreamTimeout``).
///
/// Contexts without it (as in `HummingbirdTesting`) stream without that timeout.
public protocol ChannelRequestContext {
    /// The connection the request came on.
    var channel: any Channel { get }
}
