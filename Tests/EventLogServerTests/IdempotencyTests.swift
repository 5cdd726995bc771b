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
            #expect(try topic.partition(0).endOffset == 2)
            #expect(try topic.partition(1).endOffset == 0)

            // The retry: partition 0 answers with its first offsets, partition 1 is written now.
            faults.clear()
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: Self.keyed, body: jsonBody(Self.body)) {
                    #expect($0.status == .ok)
                    #expect($0.text == Self.answer)
                }
            }
            #expect(try topic.partition(0).endOffset == 2)
            #expect(try topic.partition(1).endOffset == 1)
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
            #expect(try topic.partition(0).endOffset == 2)
            #expect(try topic.partition(1).endOffset == 1)
        }
    }
}
