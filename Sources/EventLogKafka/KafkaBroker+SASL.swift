import KafkaProtocol

extension KafkaBroker {
    /// The one mechanism offered.
    static let plainMechanism = "PLAIN"

    /// With authentication on, the gate every request passes: SaslHandshake and
    /// SaslAuthenticate are answered here, ApiVersions always goes through, and any other
    /// request closes the connection unless it authenticated (and its token has not expired
    /// since). Returns `nil` to serve the request.
    func authenticationGate(_ request: KafkaRequestFrame, session: inout KafkaSession) async -> Outcome? {
        let header = request.header
        func respond(_ body: some KafkaMessage) -> [UInt8] {
            KafkaResponseFrame.encode(correlationId: header.correlationId, body: body, version: header.apiVersion)
        }
        switch request.body {
        case .apiVersions:
            return nil
        case .saslHandshake(let handshake):
            guard session.authentication == .awaitingHandshake || session.authentication == .authenticated else {
                return .respondThenClose(respond(SaslHandshakeResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue, mechanisms: [Self.plainMechanism])),
                                         "SaslHandshake out of turn")
            }
            guard handshake.mechanism == Self.plainMechanism else {
                return .respondThenClose(respond(SaslHandshakeResponse(errorCode: KafkaErrorCode.unsupportedSaslMechanism.rawValue, mechanisms: [Self.plainMechanism])),
                                         "SASL mechanism \(handshake.mechanism) asked for; only PLAIN is offered")
            }
            // v0: the token follows as a bare frame; v1: in SaslAuthenticate. Authenticating
            // again on an authenticated connection (KIP-368) takes the same steps.
            session.authentication = header.apiVersion == 0 ? .awaitingRawToken : .awaitingAuthenticate
            return .respond(respond(SaslHandshakeResponse(errorCode: 0, mechanisms: [Self.plainMechanism])))
        case .saslAuthenticate(let body):
            guard session.authentication == .awaitingAuthenticate else {
                return .respondThenClose(respond(SaslAuthenticateResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue,
                                                                          errorMessage: "SaslAuthenticate must follow SaslHandshake v1.", authBytes: [])),
                                         "SaslAuthenticate out of turn")
            }
            switch await self.authenticate(token: body.authBytes, session: &session) {
            case .success(let lifetime):
                return .respond(respond(SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: [],
                                                                 sessionLifetimeMs: lifetime.map { max(1, $0.wholeMilliseconds) } ?? 0)))
            case .failure(let reason):
                return .respondThenClose(respond(SaslAuthenticateResponse(errorCode: KafkaErrorCode.saslAuthenticationFailed.rawValue,
                                                                          errorMessage: "Authentication failed: \(reason)", authBytes: [])),
                                         "SASL authentication failed: \(reason)")
            }
        default:
            guard session.authentication == .authenticated else {
                return .close("\(header.apiKey.name ?? "API \(header.apiKey.rawValue)") before SASL authentication")
            }
            if let until = session.authenticatedUntil, ContinuousClock.now >= until {
                return .close("the token the connection authenticated with has expired")
            }
            return nil
        }
    }

    /// The frame after SaslHandshake v0: the client's PLAIN token with no header. Answered
    /// with an empty token (a zero size) when accepted; the connection is closed otherwise.
    func authenticate(rawToken: [UInt8], session: inout KafkaSession) async -> Outcome {
        switch await authenticate(token: rawToken, session: &session) {
        case .success: return .respond([0, 0, 0, 0])
        case .failure(let reason): return .close("SASL authentication failed: \(reason)")
        }
    }

    enum AuthenticationResult {
        /// Authenticated; the authentication holds this long (`nil`: for the connection).
        case success(Duration?)
        /// Refused, with the reason (no secret in it).
        case failure(String)
    }

    /// Checks a PLAIN token (RFC 4616: authorization id, NUL, user, NUL, password) with the
    /// configured password check; on success the session gets its permissions.
    private func authenticate(token: [UInt8], session: inout KafkaSession) async -> AuthenticationResult {
        guard let check = configuration.authenticator else { return .failure("authentication is off") }
        guard let (user, password) = Self.plainCredentials(token) else {
            return .failure("the PLAIN token is not authorization id, NUL, user, NUL, password")
        }
        guard let permissions = await check(user, password) else {
            logger.notice("Kafka SASL authentication refused", metadata: ["user": "\(user)", "client": "\(session.clientHost)"])
            return .failure("the password is not a token this server accepts (a static token or a valid JWT)")
        }
        session.authentication = .authenticated
        session.permissions = permissions
        session.authenticatedUntil = permissions.lifetime.map { ContinuousClock.now.advanced(by: $0) }
        logger.debug("Kafka connection authenticated", metadata: ["user": "\(user)", "client": "\(session.clientHost)"])
        return .success(permissions.lifetime)
    }

    /// The user and password of a PLAIN token, or `nil` when it is not one (two NULs, a
    /// non-empty user and password, UTF-8).
    static func plainCredentials(_ token: [UInt8]) -> (user: String, password: String)? {
        let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty,
              let user = String(validating: parts[1], as: UTF8.self),
              let password = String(validating: parts[2], as: UTF8.self)
        else { return nil }
        return (user, password)
    }
}

extension Duration {
    /// The duration in whole milliseconds (rounded down).
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
