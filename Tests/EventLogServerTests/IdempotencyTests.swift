import EventLog
@testable import EventLogServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `Idempotency-Key` in-process: a retry after a partial failure, concurrent repeats.
@Suite("Idempotency-Key, in-process", .serialized, .timeLimit(.minutes(1)))
struct IdempotencyTests {
    /// Two records for partition 0 and one for partition 1, under one key.
    static let body = #"{"records": [{"partition": 0, "value": 1}, {"partition": 0, "value": 2}, {"partition": 1, "value": 3}]}"#
    static let answer = #"{"offsets":[{"partition":0,"offset":0},{"partition":0,"offset":1},{"partition":1,"offset":0}]}"#

    static var keyed: HTTPFields {
        var headers = jsonHeaders
        headers[HTTPField.Name("Idempotency-Key")!] = "retry-me"
        return headers
    }

    @Test func retryAfterAPartialFailureWritesOnlyWhatWasMissing() async throws {
        let faults = FaultInjector()
        try await withTestServer(faults: faults) { client, server in
            try await client.execute(uri: "/v1/topics/t", method: .put, headers: jsonHeaders, body: jsonBody(#"{"partitions": 2}"#)) {
                #expect($0.status == .created)
            }
            // Partition 1's write fails (disk full); partition 0's succeeds.
            faults.fail(.pwrite, errno: ENOSPC, pathSuffix: "/topics/t/1/00000000000000000000.log")
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: Self.keyed, body: jsonBody(Self.body)) {
                #expect($0.status.code == 507, "\($0.text)")
            }
            let topic = try #require(server.store.topic(named: "t"))
            #expect(topic.partitions[0].endOffset == 2)
            #expect(topic.partitions[1].endOffset == 0)

            // The retry: partition 0 answers with its first offsets, partition 1 is written now.
            faults.clear()
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: Self.keyed, body: jsonBody(Self.body)) {
                    #expect($0.status == .ok)
                    #expect($0.text == Self.answer)
                }
            }
            #expect(topic.partitions[0].endOffset == 2)
            #expect(topic.partitions[1].endOffset == 1)
        }
    }

    @Test func concurrentRepeatsAppendOnceAndGetOneAnswer() async throws {
        try await withTestServer { client, server in
            try await client.execute(uri: "/v1/topics/t", method: .put, headers: jsonHeaders, body: jsonBody(#"{"partitions": 2}"#)) {
                #expect($0.status == .created)
            }
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: Self.keyed, body: jsonBody(Self.body)) {
                            #expect($0.status == .ok)
                            return $0.text
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers == Array(repeating: Self.answer, count: 8))
            let topic = try #require(server.store.topic(named: "t"))
            #expect(topic.partitions[0].endOffset == 2)
            #expect(topic.partitions[1].endOffset == 1)
        }
    }

    // MARK: The memory of answers

    static func key(_ name: String, topic: String = "t") -> IdempotencyCache.Key {
        IdempotencyCache.Key(topic: topic, caller: .anonymous, key: name)
    }

    @Test func anotherFingerprintIsAConflictAndAFailureIsForgotten() async {
        let cache = IdempotencyCache(window: .seconds(600), maxKeys: 10, maxBytes: 1 << 20)
        guard case .claimed = await cache.claim(Self.key("a"), fingerprint: [1]) else { Issue.record("not claimed"); return }
        // While in flight: another body conflicts at once.
        guard case .conflict = await cache.claim(Self.key("a"), fingerprint: [2]) else { Issue.record("no conflict"); return }
        cache.abandon(Self.key("a"))
        #expect(cache.usage.keys == 0 && cache.usage.order == 0)
        // Abandoned: free for any body; then answered for that body only.
        guard case .claimed = await cache.claim(Self.key("a"), fingerprint: [2]) else { Issue.record("not claimed"); return }
        cache.complete(Self.key("a"), answer: [7])
        guard case .answered([7]) = await cache.claim(Self.key("a"), fingerprint: [2]) else { Issue.record("not answered"); return }
        guard case .conflict = await cache.claim(Self.key("a"), fingerprint: [1]) else { Issue.record("no conflict"); return }
    }

    @Test func boundedInKeysBytesAndTime() async {
        let cache = IdempotencyCache(window: .milliseconds(50), maxKeys: 100, maxBytes: 64 << 10)
        // Keys: the oldest go first.
        for n in 0..<250 {
            guard case .claimed = await cache.claim(Self.key("k\(n)"), fingerprint: [1]) else { Issue.record("k\(n)"); return }
            cache.complete(Self.key("k\(n)"), answer: [UInt8](repeating: 0, count: 10))
        }
        #expect(cache.usage.keys == 100)
        #expect(cache.usage.order == 100)
        guard case .claimed = await cache.claim(Self.key("k0"), fingerprint: [9]) else { Issue.record("k0 kept"); return }
        cache.abandon(Self.key("k0"))
        // Bytes: large answers push the others out.
        for n in 0..<20 {
            guard case .claimed = await cache.claim(Self.key("big\(n)"), fingerprint: [1]) else { Issue.record("big\(n)"); return }
            cache.complete(Self.key("big\(n)"), answer: [UInt8](repeating: 0, count: 10_000))
        }
        #expect(cache.usage.bytes <= 64 << 10)
        #expect(cache.usage.keys <= 7)
        // Time: after the window, nothing is kept.
        try? await Task.sleep(for: .milliseconds(80))
        guard case .claimed = await cache.claim(Self.key("later"), fingerprint: [1]) else { Issue.record("later"); return }
        #expect(cache.usage.keys == 0 && cache.usage.order == 0)
        cache.abandon(Self.key("later"))
    }

    @Test func claimAndAbandonLeavesNothingBehind() async {
        let cache = IdempotencyCache(window: .seconds(600), maxKeys: 10, maxBytes: 1 << 20)
        for n in 0..<5_000 {
            guard case .claimed = await cache.claim(Self.key("k\(n)"), fingerprint: [1]) else { Issue.record("k\(n)"); return }
            cache.abandon(Self.key("k\(n)"))
        }
        #expect(cache.usage.keys == 0 && cache.usage.order == 0 && cache.usage.bytes == 0)
    }

    @Test func forgettingATopicForgetsItsKeysOnly() async {
        let cache = IdempotencyCache(window: .seconds(600), maxKeys: 10, maxBytes: 1 << 20)
        for topic in ["a", "b"] {
            _ = await cache.claim(Self.key("k", topic: topic), fingerprint: [1])
            cache.complete(Self.key("k", topic: topic), answer: [1])
        }
        cache.forget(topic: "a")
        #expect(cache.usage.keys == 1 && cache.usage.order == 1)
        guard case .claimed = await cache.claim(Self.key("k", topic: "a"), fingerprint: [2]) else { Issue.record("a kept"); return }
        guard case .answered = await cache.claim(Self.key("k", topic: "b"), fingerprint: [1]) else { Issue.record("b lost"); return }
    }
}
