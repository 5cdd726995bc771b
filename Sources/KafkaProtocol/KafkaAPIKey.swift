/// A Kafka API key (the first field of every request header): `.produce` is 0, `.fetch` 1, ….
///
/// Any int16 is representable, so that a request for an API the codecs do not cover can still
/// be named in an error; the named keys and their covered versions are generated from
/// `Tools/kafka-codegen/apis.json` (`KafkaAPIKey+Generated.swift`).
public struct KafkaAPIKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The key on the wire.
    public var rawValue: Int16

    /// The key `rawValue`.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public var description: String { name.map { "\($0) (\(rawValue))" } ?? "API key \(rawValue)" }
}

/// A request or response body with a generated codec.
///
/// `decode` and `encode` follow the message's spec at each version in ``versions``: a field
/// absent at a version is neither read nor written there, and `records` fields (record
/// batches) are carried as bytes, never decoded.
public protocol KafkaMessage: Sendable, Equatable {
    /// The API the message belongs to.
    static var apiKey: KafkaAPIKey { get }
    /// The versions the codec reads and writes.
    static var versions: ClosedRange<Int16> { get }
    /// Reads the message at `version`.
    ///
    /// - Throws: ``KafkaProtocolError`` for truncated or malformed bytes, or a version outside
    ///   ``versions``.
    static func decode(from reader: inout KafkaReader, version: Int16) throws(KafkaProtocolError) -> Self
    /// Writes the message at `version`.
    ///
    /// - Precondition: `version` is in ``versions``.
    func encode(into writer: inout KafkaWriter, version: Int16)
}
