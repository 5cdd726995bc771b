/// The header in front of every request body (Kafka's `RequestHeader`, versions 1 and 2).
///
/// Non-flexible requests use header v1: API key, API version, correlation id and a nullable
/// client id. Flexible requests (header v2) add a tagged-field section after the client id; the
/// only flexible request this module meets is an ApiVersions request above the advertised
/// versions, which is answered from the header alone (see ``KafkaRequestFrame``), so the tagged
/// fields are never read.
public struct RequestHeader: Sendable, Equatable {
    /// The API of the body.
    public var apiKey: KafkaAPIKey
    /// The version of the body.
    public var apiVersion: Int16
    /// Echoed in the response's header, so the client can match them.
    public var correlationId: Int32
    /// The client's self-chosen name (`rdkafka`, `kafka-python-3.0.12`), if it sent one.
    public var clientId: String?

    /// A header with these fields.
    public init(apiKey: KafkaAPIKey, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    /// The header version a request of `apiKey` at `apiVersion` carries: 2 from the API's first
    /// flexible version on, else 1.
    public static func version(for apiKey: KafkaAPIKey, apiVersion: Int16) -> Int16 {
        if let flexible = apiKey.firstFlexibleVersion, apiVersion >= flexible { return 2 }
        return 1
    }

    /// Reads the fields of header v1 (the first four fields of v2 too).
    ///
    /// - Throws: ``KafkaProtocolError`` when the frame is shorter than a header or the client
    ///   id is not a valid nullable string.
    public static func decode(from reader: inout KafkaReader) throws(KafkaProtocolError) -> Self {
        let apiKey = KafkaAPIKey(rawValue: try reader.readInt16())
        let apiVersion = try reader.readInt16()
        let correlationId = try reader.readInt32()
        let clientId = try reader.readNullableString(field: "ClientId")
        return Self(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId, clientId: clientId)
    }

    /// Writes header v1.
    public func encode(into writer: inout KafkaWriter) {
        writer.writeInt16(apiKey.rawValue)
        writer.writeInt16(apiVersion)
        writer.writeInt32(correlationId)
        writer.writeNullableString(clientId)
    }
}
