/// A whole request: header and decoded body.
public struct KafkaRequestFrame: Sendable, Equatable {
    /// The request header (v1).
    public var header: RequestHeader
    /// The body, at `header.apiVersion`.
    public var body: KafkaRequest

    /// A request of `body` with `header`.
    ///
    /// - Precondition: `header.apiKey` is the body's API.
    public init(header: RequestHeader, body: KafkaRequest) {
        precondition(header.apiKey == body.apiKey, "header for \(header.apiKey), body for \(body.apiKey)")
        self.header = header
        self.body = body
    }

    /// What a received frame turned out to be.
    public enum Decoded: Sendable, Equatable {
        /// A request at an advertised version, decoded.
        case request(KafkaRequestFrame)
        /// An ApiVersions request at a version not advertised (a client's first, flexible
        /// probe, or an unknown version): answer it with
        /// ``ApiVersionsTable/unsupportedVersionResponse`` at v0, after a v0 header with this
        /// header's correlation id. Its body is not read.
        case unsupportedApiVersions(RequestHeader)
    }

    /// Decodes one request frame (the bytes after the size prefix).
    ///
    /// - Parameters:
    ///   - frame: the header and body, exactly.
    ///   - advertised: the versions the broker advertises; any other request is refused.
    /// - Throws: ``KafkaProtocolError`` with code `unsupportedVersion` for an API or version that
    ///   is not advertised (other than ApiVersions), or any decoding error (truncated, bad
    ///   length or count, bytes left after the body). The message names the API and version.
    ///   A broker closes the connection on any of these, as Kafka does.
    public static func decode(_ frame: [UInt8], advertised: ApiVersionsTable) throws(KafkaProtocolError) -> Decoded {
        var reader = KafkaReader(frame)
        let header: RequestHeader
        do { header = try RequestHeader.decode(from: &reader) } catch { throw error.prefixed("request header") }
        guard advertised.isAdvertised(header.apiKey, version: header.apiVersion) else {
            if header.apiKey == .apiVersions { return .unsupportedApiVersions(header) }
            throw .unsupportedVersion(apiKey: header.apiKey, version: header.apiVersion, supported: advertised.versions(of: header.apiKey))
        }
        let context = "\(header.apiKey.name ?? "API \(header.apiKey.rawValue)")Request v\(header.apiVersion)"
        do {
            let body = try KafkaRequest.decode(apiKey: header.apiKey, version: header.apiVersion, from: &reader)
            try reader.expectEnd()
            return .request(KafkaRequestFrame(header: header, body: body))
        } catch {
            throw error.prefixed(context)
        }
    }

    /// The frame's bytes: size prefix, header v1 and body at `header.apiVersion`.
    ///
    /// - Precondition: the body's codec covers `header.apiVersion`.
    public func encoded() -> [UInt8] {
        var writer = KafkaWriter()
        let start = writer.beginFrame()
        header.encode(into: &writer)
        body.encode(into: &writer, version: header.apiVersion)
        writer.endFrame(startedAt: start)
        return writer.bytes
    }
}
