import EventLog
@testable import EventLogServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// JWTs: signed by a configured key, within `exp`/`nbf`, granting what their `logd` claim names.
/// (Event streams and WebSockets with JWTs are tested end to end, in Tests/e2e/test_jwt.py, where
/// a stream that wrongly opened would time out instead of holding the test.)
@Suite struct JWTAuthTests {
    static let secret = String(repeating: "s3cret-", count: 6)

    /// The claims as a client writes them: the wire format, independent of the server's own type.
    struct ClientClaims: JWTPayload {
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var sub: SubjectClaim?
        var logd: [String: [String]]

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func token(_ grants: [String: [String]], expiresIn: TimeInterval = 3600, notBefore: Date? = nil,
                      secret: String = JWTAuthTests.secret, subject: String = "test") async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = ClientClaims(exp: ExpirationClaim(value: Date(timeIntervalSinceNow: expiresIn)),
                                  nbf: notBefore.map { NotBeforeClaim(value: $0) }, sub: SubjectClaim(value: subject), logd: grants)
        return try await keys.sign(claims)
    }

    static func configure(_ c: inout LogServerConfiguration) {
        c.jwtKeys = [.hmacSHA256(secret: secret)]
        c.authTokens = ["static-admin"]
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer " + token, .contentType: "application/json"] }

    /// An `Idempotency-Key` belongs to the token's subject: a renewed token of the same
    /// subject repeats its requests, another subject's same key is its own.
    @Test func idempotencyKeysBelongToTheSubject() async throws {
        let first = try await Self.token(["write": ["orders"]], expiresIn: 3600)
        let renewed = try await Self.token(["write": ["orders"]], expiresIn: 7200)
        let other = try await Self.token(["write": ["orders"]], subject: "someone-else")
        #expect(first != renewed)
        try await withTestServer(configure: Self.configure) { client, _ in
            func post(_ token: String) async throws -> String {
                var headers = Self.bearer(token)
                headers[HTTPField.Name("Idempotency-Key")!] = "k"
                return try await client.execute(uri: "/v1/topics/orders/records", method: .post, headers: headers,
                                                body: jsonBody(#"{"records": [{"value": 1}]}"#)) { $0.text }
            }
            // A token that may only write does not create a topic on use; the admin does.
            try await client.execute(uri: "/v1/topics/orders", method: .put, headers: Self.bearer("static-admin"),
                                     body: jsonBody(#"{"partitions": 1}"#)) { #expect($0.status == .created) }
            let answer = try await post(first)
            #expect(answer == #"{"offsets":[{"partition":0,"offset":0}]}"#)
            #expect(try await post(renewed) == answer)
            #expect(try await post(other) == #"{"offsets":[{"partition":0,"offset":1}]}"#)
        }
    }

    @Test func scopesDecideWhatATokenMayDo() async throws {
        let reader = try await Self.token(["read": ["orders"]])
        let writer = try await Self.token(["write": ["ord*"]])
        let manager = try await Self.token(["manage": ["*"]])
        let billing = try await Self.token(["read": ["orders"], "groups": ["billing"]])
        try await withTestServer(configure: Self.configure) { client, _ in
            let admin = Self.bearer("static-admin")
            for topic in ["orders", "audit"] {
                try await client.execute(uri: "/v1/topics/\(topic)", method: .put, headers: admin, body: jsonBody(#"{"partitions": 1}"#)) {
                    #expect($0.status == .created)
                }
            }
            // read: metadata, fetch and the listing, for its topics only.
            try await client.execute(uri: "/v1/topics", method: .get, headers: Self.bearer(reader)) {
                #expect($0.status == .ok)
                #expect($0.text.contains(#""orders""#) && !$0.text.contains(#""audit""#))
            }
            try await client.execute(uri: "/v1/topics/orders", method: .get, headers: Self.bearer(reader)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/topics/orders/records?partition=0&offset=0", method: .get, headers: Self.bearer(reader)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/topics/audit", method: .get, headers: Self.bearer(reader)) {
                #expect($0.status == .forbidden)
                #expect($0.text.contains(#""error":"forbidden""#))
            }
            try await client.execute(uri: "/v1/topics/orders/records", method: .post, headers: Self.bearer(reader),
                                     body: jsonBody(#"{"records": [{"value": 1}]}"#)) { #expect($0.status == .forbidden) }
            // write: produce by prefix, nothing else.
            try await client.execute(uri: "/v1/topics/orders/records", method: .post, headers: Self.bearer(writer),
                                     body: jsonBody(#"{"records": [{"value": 1}]}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/topics/audit/records", method: .post, headers: Self.bearer(writer),
                                     body: jsonBody(#"{"records": [{"value": 1}]}"#)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/topics/orders/records?partition=0&offset=0", method: .get, headers: Self.bearer(writer)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/topics/new", method: .put, headers: Self.bearer(writer), body: jsonBody(#"{"partitions": 1}"#)) {
                #expect($0.status == .forbidden)
            }
            // manage: create and delete.
            try await client.execute(uri: "/v1/topics/new", method: .put, headers: Self.bearer(manager), body: jsonBody(#"{"partitions": 1}"#)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/v1/topics/new", method: .delete, headers: Self.bearer(manager)) { #expect($0.status == .noContent) }
            // groups: the named group, and commits only for readable topics.
            let commit = #"{"offsets": [{"topic": "orders", "partition": 0, "offset": 1}]}"#
            try await client.execute(uri: "/v1/groups/billing/commits", method: .post, headers: Self.bearer(billing), body: jsonBody(commit)) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/v1/groups/other/commits", method: .post, headers: Self.bearer(billing), body: jsonBody(commit)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/groups/billing/commits", method: .post, headers: Self.bearer(billing),
                                     body: jsonBody(#"{"offsets": [{"topic": "audit", "partition": 0, "offset": 0}]}"#)) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test func expiredEarlyForgedOrMalformedTokensAre401() async throws {
        let expired = try await Self.token(["read": ["*"]], expiresIn: -60)
        let early = try await Self.token(["read": ["*"]], notBefore: Date(timeIntervalSinceNow: 3600))
        let forged = try await Self.token(["read": ["*"]], secret: String(repeating: "other-", count: 7))
        let valid = try await Self.token(["read": ["*"]])
        try await withTestServer(configure: Self.configure) { client, _ in
            for bad in [expired, early, forged, "a.b.c", String(valid.dropLast(2)), "static-admin-not"] {
                try await client.execute(uri: "/v1/topics", method: .get, headers: Self.bearer(bad)) {
                    #expect($0.status == .unauthorized)
                    #expect($0.headers[.wwwAuthenticate] == "Bearer")
                }
            }
            try await client.execute(uri: "/v1/topics", method: .get, headers: Self.bearer(valid)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/topics", method: .get, headers: [.cookie: "logd_token=" + valid]) { #expect($0.status == .ok) }
        }
    }

    /// An HS256 secret and an ES256 public key together: tokens signed either way are accepted,
    /// one signed with another P-256 key is not.
    @Test func secretAndPublicKeyTogether() async throws {
        let signingKey = ES256PrivateKey()
        let stranger = ES256PrivateKey()
        func es256(_ key: ES256PrivateKey) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: key)
            return try await keys.sign(ClientClaims(exp: ExpirationClaim(value: Date(timeIntervalSinceNow: 600)), nbf: nil, sub: "es",
                                                    logd: ["read": ["*"]]))
        }
        let (signed, foreign, hs) = (try await es256(signingKey), try await es256(stranger), try await Self.token(["read": ["*"]]))
        let pem = signingKey.publicKey.pemRepresentation
        try await withTestServer(configure: {
            $0.jwtKeys = [.hmacSHA256(secret: Self.secret), .ecdsaP256(publicKeyPEM: pem)]
        }) { client, _ in
            for (token, status) in [(signed, HTTPResponse.Status.ok), (hs, .ok), (foreign, .unauthorized)] {
                try await client.execute(uri: "/v1/topics", method: .get, headers: Self.bearer(token)) { #expect($0.status == status) }
            }
        }
    }

    @Test func patternsMatchNamesPrefixesAndEverything() {
        let p = AccessScope.Patterns(["orders", "audit.*"])
        #expect(p.matches("orders") && p.matches("audit.eu") && p.matches("audit."))
        #expect(!p.matches("orders2") && !p.matches("audit") && !p.matches("x"))
        #expect(AccessScope.Patterns(["*"]).matches("anything"))
        #expect(!AccessScope.Patterns([]).matches("anything"))
    }

    @Test func weakSecretsAndBadKeysAreRefused() {
        #expect(throws: InvalidJWTKey.self) { try JWTVerificationKey.hmacSHA256(secret: "short").validate() }
        #expect(throws: InvalidJWTKey.self) { try JWTVerificationKey.ecdsaP256(publicKeyPEM: "not a key").validate() }
        #expect(throws: Never.self) { try JWTVerificationKey.hmacSHA256(secret: JWTAuthTests.secret).validate() }
    }
}
