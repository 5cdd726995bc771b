/// What the broker remembers of one connection between its requests.
public struct KafkaSession: Sendable {
    /// Where the client connects from, as Kafka shows it (`/127.0.0.1`).
    public var clientHost: String
    /// The client id of the connection's last request header.
    public var clientID: String?

    /// A connection from `clientHost`.
    public init(clientHost: String = "") {
        self.clientHost = clientHost
    }
}
