import EventLog
@testable import EventLogServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Consumer group routes, in-process", .serialized)
struct GroupRoutesTests {
    @Test func commitsLagAndTheInternalTopic() async throws {
        try await withTestServer { client, server in
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"records": [{"value": 1}, {"value": 2}, {"value": 3}]}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/groups/g/commits", method: .get) {
                #expect($0.status == .notFound)
                #expect($0.text.contains(#""error":"group_not_found""#))
            }
            try await client.execute(uri: "/v1/groups/g/commits", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"offsets": [{"topic": "t", "partition": 0, "offset": 1, "metadata": "m"}]}"#)) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/v1/groups/g/commits", method: .get) {
                #expect($0.text == #"{"offsets":[{"topic":"t","partition":0,"offset":1,"metadata":"m"}]}"#)
            }
            try await client.execute(uri: "/v1/groups/g/lag", method: .get) {
                #expect($0.text.contains(#""committed":1,"end_offset":3,"lag":2"#))
            }
            // The commits live in an internal topic: hidden, and not writable or deletable by clients.
            try await client.execute(uri: "/v1/topics", method: .get) { #expect(!$0.text.contains("__consumer_offsets")) }
            try await client.execute(uri: "/v1/topics/__consumer_offsets/records", method: .post, body: jsonBody("x")) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/topics/__consumer_offsets", method: .delete) { #expect($0.status == .forbidden) }
            // `__` names are the internal topics': a client can neither create one nor produce one into being.
            try await client.execute(uri: "/v1/topics/__mine", method: .put) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/topics/__mine/records", method: .post, body: jsonBody("x")) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/topics/__mine", method: .get) { #expect($0.status == .notFound) }
            await server.groups.close()
        }
    }

    /// A group of Kafka clients (the classic protocol) is described with its protocol and
    /// clients; an HTTP join of it is refused while they are its members.
    @Test func aGroupOfKafkaClientsOverHTTP() async throws {
        try await withTestServer { client, server in
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"records": [{"value": 1}]}"#)) { #expect($0.status == .ok) }
            let coordinator = try await server.groupCoordinator()
            let join = ClassicJoinRequest(group: "k", memberID: nil, requiresKnownMemberID: false, protocolType: "consumer",
                                          protocols: [ClassicProtocol(name: "range", metadata: [])], sessionTimeout: .seconds(10),
                                          rebalanceTimeout: .seconds(10), clientID: "rdkafka", clientHost: "/127.0.0.1", topics: ["t"])
            guard case .joined(let joined) = try await coordinator.joinClassic(join) else {
                Issue.record("not joined")
                return
            }
            _ = try await coordinator.syncClassic("k", member: joined.memberID, generation: joined.generation,
                                                  assignments: [joined.memberID: ClassicAssignment(bytes: [], partitions: [TopicPartition("t", 0)])])
            try await client.execute(uri: "/v1/groups/k", method: .get) {
                #expect($0.text.contains(#""state":"stable","generation":1,"strategy":null,"protocol_type":"consumer","protocol":"range""#))
                #expect($0.text.contains(#""assignment":[{"topic":"t","partition":0}],"session_timeout_ms":10000,"client_id":"rdkafka","client_host":"/127.0.0.1"}"#))
            }
            try await client.execute(uri: "/v1/groups/k/members", method: .post, headers: jsonHeaders, body: jsonBody(#"{"topics": ["t"]}"#)) {
                #expect($0.status == .conflict)
                #expect($0.text.contains(#""error":"inconsistent_group_protocol""#))
            }
            try await client.execute(uri: "/v1/groups/k", method: .delete) { #expect($0.status == .conflict) }
            await server.groups.close()
        }
    }

    @Test func joinReadAndFencing() async throws {
        try await withTestServer { client, server in
            try await client.execute(uri: "/v1/topics/t/records", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"records": [{"value": 1}, {"value": 2}]}"#)) { #expect($0.status == .ok) }
            let joined = try await client.execute(uri: "/v1/groups/g/members", method: .post, headers: jsonHeaders,
                                                  body: jsonBody(#"{"topics": ["t"], "session_timeout_ms": 5000}"#)) { $0 }
            #expect(joined.status == .ok)
            #expect(joined.text.contains(#""generation":1,"assignment":[{"topic":"t","partition":0}],"rebalancing":false"#))
            let member = try #require(joined.text.split(separator: "\"").dropFirst(3).first.map(String.init))
            try await client.execute(uri: "/v1/groups/g/records?member_id=\(member)&limit=1", method: .get) {
                #expect($0.text.contains(#""topic":"t","partition":0,"offset":0"#))
                #expect($0.text.hasSuffix(#""positions":[{"topic":"t","partition":0,"next_offset":1}]}"#))
            }
            try await client.execute(uri: "/v1/groups/g/members", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"topics": ["t"]}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/groups/g/records?member_id=\(member)", method: .get) {
                #expect($0.status == .conflict)
                #expect($0.text.contains(#""error":"rebalancing""#))
            }
            try await client.execute(uri: "/v1/groups/g/commits", method: .post, headers: jsonHeaders,
                                     body: jsonBody(#"{"offsets": [{"topic": "t", "partition": 0, "offset": 1}], "member_id": "\#(member)", "generation": 1}"#)) {
                #expect($0.status == .conflict)
                #expect($0.text.contains(#""error":"stale_generation""#))
            }
            try await client.execute(uri: "/v1/groups/g/members/nobody/heartbeat", method: .post) {
                #expect($0.status == .notFound)
                #expect($0.text.contains(#""error":"unknown_member""#))
            }
            await server.groups.close()
        }
    }
}
