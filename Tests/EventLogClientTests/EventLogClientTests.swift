import EventLogClient
import Foundation
import Synchronization
import TestSupport
import Testing

/// `EventLogClient` against a real `logd`, which the tests kill and restart.
@Suite(.timeLimit(.minutes(2))) struct EventLogClientTests {
    @Test func produceFetchTopicsAndErrors() async throws {
        let server = try LiveLogd()
        try await server.start()
        defer { #expect(server.stop() == 0) }
        let client = EventLogClient(url: server.url)

        let created = try await client.createTopic("orders", settings: TopicSettings(partitions: 2, retention: .seconds(86_400)))
        #expect(created.partitions.count == 2)
        #expect(created.config["retention_ms"] == "86400000")
        #expect(try await client.topics().map(\.name).contains("orders"))
        #expect(try await client.topic(named: "missing") == nil)
        let altered = try await client.alterTopic("orders", settings: TopicSettings(retentionForever: true, durability: "interval:250"))
        #expect(altered.config["retention_ms"] == "-1" && altered.config["durability_interval_ms"] == "250")
        await #expect { try await client.alterTopic("orders", settings: TopicSettings(partitions: 1)) } throws: { error in
            let e = error as? EventLogClientError
            return e?.code == "fixed_setting" && e?.status == 409 && e?.message.contains("cannot have fewer") == true
        }
        let grown = try await client.alterTopic("orders", settings: TopicSettings(partitions: 3))
        #expect(grown.partitions.map(\.partition) == [0, 1, 2] && grown.config["partitions"] == "3")

        let records = [
            OutgoingRecord(key: "k", value: .json(#"{"total": 12.50}"#), headers: [("type", "order.created"), ("b", "2")]),
            OutgoingRecord(key: "k", value: .bytes([0xFF, 0x00, 0x41])),
            OutgoingRecord(key: "k", value: nil),
        ]
        let positions = try await client.produce(records, to: "orders", idempotencyKey: "first")
        #expect(Set(positions.map(\.partition)).count == 1)  // one key, one partition
        #expect(positions.map(\.offset) == [0, 1, 2])
        #expect(try await client.produce(records, to: "orders", idempotencyKey: "first") == positions)  // a retry

        let fetched = try await client.fetch(topic: "orders", partition: positions[0].partition, from: .earliest)
        #expect(fetched.records.count == 3)
        #expect(fetched.nextOffset == 3)
        #expect(fetched.records[0].value == .json(#"{"total":12.50}"#))  // stored compact; its number text as sent
        #expect(fetched.records[0].headers == ["type": "order.created", "b": "2"])
        #expect(fetched.records[1].value == .bytes([0xFF, 0x00, 0x41]))
        #expect(fetched.records[2].value == nil)
        #expect(fetched.records.allSatisfy { $0.key == "k" })

        // A JSON value that is not one JSON value is refused before anything is sent: spliced
        // into the body as it is, `1}, {"value": 666` would append two records.
        await #expect { try await client.produce([OutgoingRecord(value: .json(#"1}, {"value": 666"#))], to: "orders") } throws: { error in
            let e = error as? EventLogClientError
            return e?.code == .invalidRecord && e?.status == 400 && e?.message.contains("record 0") == true
        }
        #expect(try await client.fetch(topic: "orders", partition: positions[0].partition, from: .earliest).records.count == 3,
                "nothing appended")

        // Long-poll: an empty answer after the wait.
        let waited = try await client.fetch(topic: "orders", partition: positions[0].partition, from: .offset(3), wait: .milliseconds(200))
        #expect(waited.records.isEmpty && waited.nextOffset == 3)

        // The server's errors arrive as values with the contract's code and sentence.
        await #expect { try await client.fetch(topic: "orders", partition: 0, from: .offset(99)) } throws: { error in
            let e = error as? EventLogClientError
            return e?.code == "offset_out_of_range" && e?.status == 416 && !(e?.message.isEmpty ?? true)
        }
        await #expect { try await client.fetch(topic: "orders", partition: 7) } throws: { error in
            (error as? EventLogClientError)?.code == .partitionNotFound
        }
        // Typed codes: matched by constant in a `catch`, as the engine's LogError codes are.
        do {
            _ = try await client.fetch(topic: "missing-topic", partition: 0)
            Issue.record("a fetch of a missing topic succeeded")
        } catch EventLogClientError.Code.topicNotFound {
        } catch {
            Issue.record("expected topic_not_found, got \(error)")
        }

        // Groups: commit, read back, lag.
        try await client.commit([CommittedOffset(topic: "orders", partition: positions[0].partition, offset: 1, metadata: "m")], group: "billing")
        let commits = try await client.committedOffsets(group: "billing")
        #expect(commits == [CommittedOffset(topic: "orders", partition: positions[0].partition, offset: 1, metadata: "m")])
        let lag = try await client.lag(group: "billing")
        #expect(lag.first { $0.partition == positions[0].partition }?.lag == 2)

        try await client.deleteTopic("orders")
        await #expect { try await client.deleteTopic("orders") } throws: { ($0 as? EventLogClientError)?.code == "topic_not_found" }
    }

    /// The stream resumes by itself across a `kill -9` and restart of the server: every
    /// acknowledged record arrives exactly once, in order per partition.
    @Test func aStreamResumesAcrossAServerKilledAndRestarted() async throws {
        let server = try LiveLogd()
        try await server.start()
        defer { _ = server.stop() }
        let client = EventLogClient(url: server.url, requestTimeout: .seconds(5))
        try await client.createTopic("t", settings: TopicSettings(partitions: 2, durability: "fsync"))

        let seen = Mutex<[StreamedRecord]>([])
        let reconnections = Mutex(0)
        let consumer = Task {
            for try await event in client.records(topic: "t", from: .earliest) {
                switch event {
                case .record(let record): seen.withLock { $0.append(record) }
                case .reconnecting: reconnections.withLock { $0 += 1 }
                default: break
                }
            }
        }

        var acknowledged: [RecordPosition: String] = [:]
        func produce(_ n: Int) async {
            let record = OutgoingRecord(key: "key-\(n % 7)", text: "value-\(n)")
            for _ in 0..<200 {  // until the server is back: at most ~20 s
                do {
                    let position = try await client.produce([record], to: "t")[0]
                    acknowledged[position] = "\"value-\(n)\""
                    return
                } catch {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            Issue.record("record \(n) was never acknowledged")
        }
        for n in 0..<60 { await produce(n) }
        // Some of these were delivered before the kill, the rest after the restart.
        server.kill9()
        try await server.start()
        for n in 60..<120 { await produce(n) }

        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline, seen.withLock({ $0.count }) < acknowledged.count {
            try await Task.sleep(for: .milliseconds(50))
        }
        consumer.cancel()
        let records = seen.withLock { $0 }
        let delivered = Dictionary(grouping: records) { RecordPosition(partition: $0.partition, offset: $0.offset) }
        #expect(delivered.values.allSatisfy { $0.count == 1 }, "a record was delivered twice")
        for (position, value) in acknowledged {
            #expect(delivered[position]?.first?.data == value, "acknowledged \(position) missing or different")
        }
        for partition in 0..<2 {
            let offsets = records.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == offsets.sorted() && offsets == Array(0..<Int64(offsets.count)), "partition \(partition) out of order or with holes")
        }
        #expect(reconnections.withLock { $0 } >= 1)
    }
}
