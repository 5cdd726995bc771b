public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore

/// The request context `logd` uses: WebSocket upgrades, the client's address (for rate limits)
/// and no upload limit of its own (``LogServerConfiguration/maxBodyBytes`` applies).
public struct LogRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext, ChannelRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The client's address, when the connection has one.
    public let remoteAddress: SocketAddress?
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// Bodies are collected with the server's own limit.
    public var maxUploadSize: Int { .max }
}
