/// Response frames: size prefix, header v0 (the correlation id) and body.
public enum KafkaResponseFrame {
    /// The frame answering the request with `correlationId` with `body` at `version`.
    ///
    /// - Precondition: `version` is covered by the body's codec.
    public static func encode(correlationId: Int32, body: some KafkaMessage, version: Int16) -> [UInt8] {
        var writer = KafkaWriter()
        encode(correlationId: correlationId, body: body, version: version, into: &writer)
        return writer.bytes
    }

    /// Appends the frame answering `correlationId` with `body` at `version` to `writer`.
    public static func encode(correlationId: Int32, body: some KafkaMessage, version: Int16, into writer: inout KafkaWriter) {
        let start = writer.beginFrame()
        ResponseHeader(correlationId: correlationId).encode(into: &writer)
        body.encode(into: &writer, version: version)
        writer.endFrame(startedAt: start)
    }

    /// The frame answering an ApiVersions request at a version not advertised: header v0 and
    /// the table's ``ApiVersionsTable/unsupportedVersionResponse`` at v0 (error 35, only
    /// ApiVersions, no throttle field).
    public static func unsupportedApiVersions(correlationId: Int32, advertised: ApiVersionsTable) -> [UInt8] {
        encode(correlationId: correlationId, body: advertised.unsupportedVersionResponse, version: 0)
    }

    /// Decodes a response frame (the bytes after the size prefix) to a request of `apiKey` at
    /// `version`, as a client does.
    ///
    /// - Throws: ``KafkaProtocolError`` for an API or version the codecs do not cover, or any
    ///   decoding error.
    public static func decode(_ frame: [UInt8], apiKey: KafkaAPIKey, version: Int16) throws(KafkaProtocolError) -> (header: ResponseHeader, body: KafkaResponse) {
        var reader = KafkaReader(frame)
        let context = "\(apiKey.name ?? "API \(apiKey.rawValue)")Response v\(version)"
        do {
            let header = try ResponseHeader.decode(from: &reader)
            let body = try KafkaResponse.decode(apiKey: apiKey, version: version, from: &reader)
            try reader.expectEnd()
            return (header, body)
        } catch {
            throw error.prefixed(context)
        }
    }
}
