import Crypto
import Hummingbird
import HTTPTypes
import JWTKit
import Synchronization

/// A key that signs the JWTs `logd` accepts.
public enum JWTVerificationKey: Sendable, Hashable {
    /// HS256: the shared secret (at least 32 bytes).
    case hmacSHA256(secret: String)
    /// ES256: a P-256 public key, PEM (`-----BEGIN PUBLIC KEY-----`).
    case ecdsaP256(publicKeyPEM: String)

    /// Checks the key: a short secret or a PEM that does not parse is refused at start-up.
    public func validate() throws(InvalidJWTKey) {
        switch self {
        case .hmacSHA256(let secret):
            guard secret.utf8.count >= 32 else {
                throw InvalidJWTKey(description: "A JWT secret must have at least 32 bytes (HS256 keys shorter than the hash are weak).")
            }
        case .ecdsaP256(let pem):
            guard (try? ES256PublicKey(pem: pem)) != nil else {
                throw InvalidJWTKey(description: "The JWT public key is not a P-256 public key in PEM form.")
            }
        }
    }
}

/// A JWT key that cannot be used, with the reason.
public struct InvalidJWTKey: Error, CustomStringConvertible {
    /// One sentence saying what is wrong.
    public let description: String
}

/// Who sent a request, for what belongs to a caller (an `Idempotency-Key` is one caller's):
/// the static token presented, else the JWT's subject (`sub`: every token of that subject is
/// the same caller), else the JWT itself. Without authentication every request is one caller.
///
/// Kept as a SHA-256 digest, so that no token is kept a second time.
struct Caller: Hashable, Sendable {
    /// The digest of the identity; empty for ``anonymous``.
    let digest: [UInt8]

    /// Every request when authentication is off.
    static let anonymous = Caller(digest: [])

    /// The caller named `identity` of `kind` (`token`, `sub`, `jwt`).
    init(kind: String, identity: String) {
        var hasher = SHA256()
        hasher.update(data: Array("logd caller \(kind)\u{0}".utf8))
        hasher.update(data: Array(identity.utf8))
        digest = Array(hasher.finalize())
    }

    private init(digest: [UInt8]) {
        self.digest = digest
    }
}

/// Authenticates `/v1` requests: a static token grants everything, a JWT signed by one of
/// the configured keys grants its `logd` claim (``AccessScope``), anything else is `401`.
///
/// A request's grant is found once, by ``AuthMiddleware``, and read by its route through
/// ``current`` (``Routes/grant(_:)``). Verified JWTs are remembered (at most
/// ``cacheCapacity``, never past their `exp`), so a client's next request costs no verification.
final class Authenticator: Sendable {
    private let staticTokens: [[UInt8]]
    private let staticCallers: [Caller]
    private let keys: Task<JWTKeyCollection, Never>?
    private let cache = Mutex<[String: Grant]>([:])
    static let cacheCapacity = 4096
    private let verifyCount = Atomic<Int>(0)

    /// How many times a presented token was verified (tests: once per request).
    var verifications: Int { verifyCount.load(ordering: .relaxed) }

    /// What a request's token grants and who presented it.
    struct Grant: Sendable {
        /// What the token may do.
        var scope: AccessScope
        /// Who presented it.
        var caller: Caller
        /// When the token stops being valid (a JWT's `exp`), in seconds since the epoch.
        var expiresAtSeconds: Double? = nil
        var notBeforeSeconds: Double? = nil

        /// Everything, for one caller: authentication is off.
        static let unrestricted = Grant(scope: .unrestricted, caller: .anonymous)

        /// When a stream on this grant must end (a JWT's `exp`), or `nil`.
        var deadline: TokenDeadline? {
            expiresAtSeconds.map { TokenDeadline(expiresAtSeconds: $0, nowMilliseconds: currentTimeMilliseconds()) }
        }
    }

    /// The grant the middleware found for the request this task handles, with the
    /// authenticator that found it.
    @TaskLocal static var current: (authenticator: ObjectIdentifier, grant: Grant)?

    /// `nil` when authentication is off (no tokens, no keys).
    init?(staticTokens: [String], jwtKeys: [JWTVerificationKey]) {
        guard !staticTokens.isEmpty || !jwtKeys.isEmpty else { return nil }
        self.staticTokens = staticTokens.map { Array($0.utf8) }
        self.staticCallers = staticTokens.map { Caller(kind: "token", identity: $0) }
        if jwtKeys.isEmpty {
            keys = nil
        } else {
            keys = Task {
                let collection = JWTKeyCollection()
                // Each key under its own id (keys without one replace each other); a token is
                // tried against every key (``scope(for:)`` verifies with `iteratingKeys`).
                for (n, key) in jwtKeys.enumerated() {
                    let kid = JWKIdentifier(string: "logd-key-\(n)")
                    switch key {
                    case .hmacSHA256(let secret):
                        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: kid)
                    case .ecdsaP256(let pem):
                        // Checked by validate() at start-up; a key that fails here verifies nothing.
                        if let key = try? ES256PublicKey(pem: pem) { await collection.add(ecdsa: key, kid: kid) }
                    }
                }
                return collection
            }
        }
    }

    /// The grant of the request this task handles: the one the middleware found (``current``),
    /// else found now. `401 unauthorized` without a valid token.
    func grant(for request: Request) async throws -> Grant {
        if let current = Self.current, current.authenticator == ObjectIdentifier(self) { return current.grant }
        return try await verify(request)
    }

    /// Verifies the token `request` presents: what it grants and who presented it.
    func verify(_ request: Request) async throws -> Grant {
        guard let presented = Self.presentedToken(in: request) else {
            verifyCount.add(1, ordering: .relaxed)
            throw Self.unauthorized("A token is required")
        }
        return try await verify(token: presented)
    }

    /// Verifies a token however it was presented (over HTTP, or as a Kafka client's SASL/PLAIN
    /// password): what it grants and who presented it; `401 unauthorized` when it is not valid.
    func verify(token presented: String) async throws -> Grant {
        verifyCount.add(1, ordering: .relaxed)
        if let known = try knownGrant(presented) { return known }
        guard let keys else { throw Self.unauthorized("The token is not valid") }
        let claims: LogdClaims
        do {
            claims = try await keys.value.verify(presented, as: LogdClaims.self, iteratingKeys: true)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw Self.unauthorized("The token has expired or is not valid yet")
        } catch {
            throw Self.unauthorized("The token is not valid")
        }
        let caller = claims.sub.map { Caller(kind: "sub", identity: $0.value) } ?? Caller(kind: "jwt", identity: presented)
        let grant = Grant(scope: claims.scope, caller: caller, expiresAtSeconds: claims.exp?.value.timeIntervalSince1970,
                                notBeforeSeconds: claims.nbf?.value.timeIntervalSince1970)
        cache.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[presented] = grant
        }
        return grant
    }

    /// What `presented` grants when that is known without verifying a signature: a static
    /// token, or a JWT verified before and valid now; `nil` when a signature must be verified.
    /// Throws `401` for a token that cannot be valid, or a known JWT outside its validity.
    private func knownGrant(_ presented: String) throws -> Grant? {
        let candidate = Array(presented.utf8)
        var matched: Int?
        for (n, token) in staticTokens.enumerated() where Self.constantTimeEquals(token, candidate) { matched = n }
        if let matched { return Grant(scope: .unrestricted, caller: staticCallers[matched]) }
        guard keys != nil, presented.utf8.count < 16 << 10, presented.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            throw Self.unauthorized("The token is not valid")
        }
        let now = Double(currentTimeMilliseconds()) / 1000
        guard let cached = cache.withLock({ $0[presented] }) else { return nil }
        if let exp = cached.expiresAtSeconds, now >= exp { throw Self.unauthorized("The token has expired") }
        if let nbf = cached.notBeforeSeconds, now < nbf { throw Self.unauthorized("The token is not valid yet") }
        return cached
    }

    /// What the token of an `Authorization: Bearer` value grants, when that is known without a
    /// wait (``knownGrant(_:)``): for the produce shortcut, which leaves every other request,
    /// and every refusal, to the router and ``AuthMiddleware``. Counts as one verification.
    func knownGrant(authorization: String?) -> Grant? {
        guard let authorization, let presented = Self.bearerToken(authorization) else { return nil }
        verifyCount.add(1, ordering: .relaxed)
        return (try? knownGrant(presented)) ?? nil
    }

    private static func unauthorized(_ reason: String) -> APIError {
        APIError(.unauthorized, "\(reason): send a static token or a signed JWT as Authorization: Bearer, ?access_token= or the logd_token cookie.",
                 headers: [.wwwAuthenticate: "Bearer"])
    }

    /// The token a request presents, in the order header, query, cookie.
    static func presentedToken(in request: Request) -> String? {
        if let authorization = request.headers[.authorization], let token = bearerToken(authorization) {
            return token
        }
        if let token = request.uri.queryParameters["access_token"] {
            return String(token)
        }
        if let cookie = request.cookies["logd_token"] {
            return cookie.value
        }
        return nil
    }

    /// The token of an `Authorization: Bearer <token>` value, or `nil` for another scheme.
    private static func bearerToken(_ authorization: String) -> String? {
        let prefix = "Bearer "
        guard authorization.count > prefix.count, authorization.prefix(prefix.count).lowercased() == prefix.lowercased() else { return nil }
        return String(authorization.dropFirst(prefix.count)).trimmingSpaces()
    }

    private static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// The claims `logd` reads: `exp` and `nbf` (checked when present), `logd`, the grants, and
/// `sub`, who the caller is (``Caller``); others (`iat`, …) are ignored.
struct LogdClaims: JWTPayload {
    struct Grants: Codable, Sendable {
        var read: [String]?
        var write: [String]?
        var manage: [String]?
        var groups: [String]?
    }

    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var sub: SubjectClaim?
    var logd: Grants?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp?.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }

    var scope: AccessScope {
        AccessScope(read: .init(logd?.read ?? []), write: .init(logd?.write ?? []),
                    manage: .init(logd?.manage ?? []), groups: .init(logd?.groups ?? []))
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}
