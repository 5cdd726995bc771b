/// The header in front of every response body at a non-flexible version (Kafka's
/// `ResponseHeader` v0): the request's correlation id. ApiVersions responses always use v0,
/// even at flexible versions.
public struct ResponseHeader: Sendable, Equatable {
    /// The correlation id of the request answered.
    public var correlationId: Int32

    /// A header answering the request with `correlationId`.
    public init(correlationId: Int32) { self.correlationId = correlationId }

    /// Reads header v0.
    ///
    /// - Throws: ``KafkaProtocolError/Code/truncated`` when fewer than 4 bytes are left.
    public static func decode(from reader: inout KafkaReader) throws(KafkaProtocolError) -> Self {
        Self(correlationId: try reader.readInt32())
    }

    /// Writes header v0.
    public func encode(into writer: inout KafkaWriter) {
        writer.writeInt32(correlationId)
    }
}
