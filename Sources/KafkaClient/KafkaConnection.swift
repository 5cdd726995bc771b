public import KafkaProtocol

/// One connection to one broker: requests sent one at a time, each answered (or failed) within
/// the connection's timeout, at the highest version both this client's codecs and the broker
/// support (negotiated with ApiVersions when the connection opens).
///
/// Not thread-safe: one caller at a time. A connection whose socket failed stays failed; open a
/// new one.
public final class KafkaConnection {
    /// The broker.
    public let address: BrokerAddress
    private let socket: SocketStream
    private let clientId: String
    private let timeoutMs: Int
    private let maxResponseBytes: Int
    private var nextCorrelationId: Int32 = 1
    private var answered = 0
    private let authenticates: Bool
    /// The broker's supported versions per API key.
    public private(set) var brokerVersions: [Int16: ClosedRange<Int16>] = [:]

    /// Connects to `address`, negotiates versions with ApiVersions, and authenticates with
    /// SASL/PLAIN when `credentials` are given.
    ///
    /// - Parameters:
    ///   - clientId: the client id sent in every request header.
    ///   - timeoutMs: the longest wait for a connection or an answer (a Fetch adds its own
    ///     max wait).
    ///   - maxResponseBytes: the largest response frame accepted.
    /// - Throws: ``KafkaClientError``.
    public init(to address: BrokerAddress, clientId: String, timeoutMs: Int, maxResponseBytes: Int = 64 << 20,
                credentials: SASLPlainCredentials? = nil) throws(KafkaClientError) {
        self.address = address
        self.clientId = clientId
        self.timeoutMs = timeoutMs
        self.maxResponseBytes = maxResponseBytes
        authenticates = credentials != nil
        socket = try SocketStream(connectingTo: address, timeoutMs: timeoutMs)
        try negotiateVersions()
        if let credentials { try authenticate(credentials) }
    }

    /// Closes the connection.
    public func close() { socket.close() }

    /// Whether the connection failed or was closed.
    public var isClosed: Bool { socket.isClosed }

    /// The version this client uses for `apiKey` with this broker: the highest both support.
    ///
    /// - Throws: ``KafkaClientError/Code/unsupportedBroker`` when they share none.
    public func version(of apiKey: KafkaAPIKey) throws(KafkaClientError) -> Int16 {
        let name = apiKey.name ?? "API \(apiKey.rawValue)"
        guard let ours = apiKey.codecVersions, let theirs = brokerVersions[apiKey.rawValue],
              ours.overlaps(theirs) else {
            throw KafkaClientError(.unsupportedBroker, "the broker at \(address) supports no version of \(name) this client speaks (\(apiKey.codecVersions.map { "\($0.lowerBound)–\($0.upperBound)" } ?? "none")).")
        }
        return min(ours.upperBound, theirs.upperBound)
    }

    /// Whether the broker supports some version of `apiKey` this client speaks.
    public func supports(_ apiKey: KafkaAPIKey) -> Bool { (try? version(of: apiKey)) != nil }

    /// Sends `request` at the negotiated version (or `version`) and returns the broker's answer.
    ///
    /// - Parameter extraWaitMs: added to the timeout (a Fetch's max wait).
    /// - Throws: ``KafkaClientError``: the connection failed or timed out (it is then closed),
    ///   or the answer could not be decoded.
    public func send<Request: KafkaMessage, Response: KafkaMessage>(
        _ request: Request, version: Int16? = nil, extraWaitMs: Int = 0, as _: Response.Type = Response.self
    ) throws(KafkaClientError) -> Response {
        precondition(Request.apiKey == Response.apiKey, "\(Request.self) answered by \(Response.self)")
        let chosen = version
        let version: Int16
        if let chosen { version = chosen } else { version = try self.version(of: Request.apiKey) }
        let correlationId = nextCorrelationId
        nextCorrelationId = nextCorrelationId == Int32.max ? 1 : nextCorrelationId + 1
        var writer = KafkaWriter()
        let start = writer.beginFrame()
        RequestHeader(apiKey: Request.apiKey, apiVersion: version, correlationId: correlationId, clientId: clientId).encode(into: &writer)
        request.encode(into: &writer, version: version)
        writer.endFrame(startedAt: start)
        let deadline = SocketStream.nowMs() + Int64(timeoutMs + extraWaitMs)
        try socket.send(writer.bytes, deadline: deadline)
        let name = "\(Request.apiKey.name ?? "API \(Request.apiKey.rawValue)") v\(version)"
        let prefix: [UInt8]
        do {
            prefix = try socket.receive(exactly: 4, deadline: deadline)
        } catch KafkaClientError.Code.connectionFailed where answered == 1 && !authenticates {
            // Only ApiVersions was answered: a broker that requires SASL closes connections
            // that send anything else first (logd does, and Kafka's SASL listeners).
            throw KafkaClientError(.connectionFailed, "the broker at \(address) closed the connection after ApiVersions: it may require SASL authentication.")
        }
        let size: Int
        do {
            size = try KafkaFraming.frameSize(at: prefix, minimum: 4, maxFrameBytes: maxResponseBytes) ?? 0
        } catch {
            socket.close()
            throw KafkaClientError(.protocolViolation, "the broker at \(address) answered \(name) with a bad frame: \(error.message)")
        }
        let frame = try socket.receive(exactly: size, deadline: deadline)
        var reader = KafkaReader(frame)
        let header: ResponseHeader
        let body: Response
        do {
            header = try ResponseHeader.decode(from: &reader)
            body = try Response.decode(from: &reader, version: version)
            try reader.expectEnd()
        } catch {
            socket.close()
            throw KafkaClientError(.protocolViolation, "the broker at \(address) answered \(name) with bytes that do not decode: \(error.message)")
        }
        guard header.correlationId == correlationId else {
            socket.close()
            throw KafkaClientError(.protocolViolation, "the broker at \(address) answered \(name) with correlation id \(header.correlationId) instead of \(correlationId).")
        }
        answered += 1
        return body
    }

    private func negotiateVersions() throws(KafkaClientError) {
        // v2 is the highest non-flexible version; a broker without it answers error 35 with a
        // v0 body, and v0 is tried.
        var response: ApiVersionsResponse
        do {
            response = try send(ApiVersionsRequest(), version: 2)
        } catch KafkaClientError.Code.protocolViolation {
            throw KafkaClientError(.unsupportedBroker, "the broker at \(address) does not answer ApiVersions v2 as a Kafka broker does.")
        }
        if response.errorCode == KafkaErrorCode.unsupportedVersion.rawValue {
            response = try send(ApiVersionsRequest(), version: 0)
        }
        guard response.errorCode == 0 else {
            throw KafkaClientError(.brokerError, "the broker at \(address) answered ApiVersions with error \(response.errorCode).",
                                   kafkaErrorCode: KafkaErrorCode(rawValue: response.errorCode))
        }
        for entry in response.apiKeys where entry.minVersion <= entry.maxVersion {
            brokerVersions[entry.apiKey] = entry.minVersion...entry.maxVersion
        }
    }

    private func authenticate(_ credentials: SASLPlainCredentials) throws(KafkaClientError) {
        let handshake: SaslHandshakeResponse = try send(SaslHandshakeRequest(mechanism: "PLAIN"))
        guard handshake.errorCode == 0 else {
            throw KafkaClientError(.authenticationFailed, "the broker at \(address) does not offer SASL/PLAIN (it offers \(handshake.mechanisms.joined(separator: ", "))).",
                                   kafkaErrorCode: KafkaErrorCode(rawValue: handshake.errorCode))
        }
        let answer: SaslAuthenticateResponse = try send(SaslAuthenticateRequest(authBytes: credentials.message))
        guard answer.errorCode == 0 else {
            throw KafkaClientError(.authenticationFailed, "the broker at \(address) refused the SASL/PLAIN credentials of user \(credentials.user)\(answer.errorMessage.map { ": \($0)" } ?? ".")",
                                   kafkaErrorCode: KafkaErrorCode(rawValue: answer.errorCode))
        }
    }
}
