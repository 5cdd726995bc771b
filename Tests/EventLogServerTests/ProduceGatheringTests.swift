import EventLog
@testable import EventLogServer
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// The plain produces an event loop reads in one pass are appended together
/// (``ProduceGathering``, Docs/adr/0012-produces-gathered-per-loop-pass.md): over real sockets,
/// logd's front lane and produce shortcut on a one-thread loop, with a real store.
@Suite("Produces gathered per loop pass", .serialized)
struct ProduceGatheringTests {
    typealias Client = HTTP1ConnectionTests.Client

    /// A server on one event loop answering produces as logd does (front lane, shortcuts),
    /// and the router for the rest.
    static func withServer(
        topic configuration: TopicConfiguration,
        _ body: @escaping @Sendable (_ server: HTTP1ConnectionTests.Server, _ partition: Partition) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let store = try await openStore(directory)
            let partition = try await store.createTopic(named: "g", configuration: configuration).partitions[0]
            let logServer = LogServer(store: store, configuration: LogServerConfiguration(), logger: testLogger)
            logServer.lifecycleForTesting.markRunning()
            let router = Router(context: LogRequestContext.self)
            logServer.addMiddleware(to: router)
            logServer.addRoutes(to: router)
            let routes = Routes<LogRequestContext>(server: logServer)
            var responder = HTTP1Responder(StreamRequestResponder(router.buildResponder()))
            responder.shortcut = { head, body in routes.produceShortcut(head, body: body) }
            responder.front = { request, body in routes.produceShortcut(request, body: body) }
            let server = try HTTP1ConnectionTests.Server(front: true, responder: responder)
            do {
                try await body(server, partition)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }

    static func produce(_ value: String) -> String {
        let body = #"{"records": [{"value": "\#(value)"}]}"#
        return "POST /v1/topics/g/records HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    /// The first offset an answer gives (`{"offsets":[{"partition":0,"offset":N}]}`).
    static func offset(_ answer: String) -> Int? {
        guard let key = answer.range(of: #""offset":"#) else { return nil }
        return Int(answer[key.upperBound...].prefix { $0.isNumber })
    }

    /// The values stored from `offset` on, as text.
    static func values(_ partition: Partition, from offset: Int) async throws -> [String] {
        try await partition.read(from: Offset(Int64(offset)), maxRecords: 100).records.map {
            String(decoding: $0.value ?? RecordBytes(), as: UTF8.self)
        }
    }

    /// Holds an event loop in a task until opened.
    final class Gate: Sendable {
        let blocked = Atomic<Bool>(false)
        let opened = Atomic<Bool>(false)

        /// Blocks `server`'s only loop until ``open()`` (at most 10 s); returns once it is blocked.
        func block(_ server: HTTP1ConnectionTests.Server) async throws {
            server.group.next().execute {
                self.blocked.store(true, ordering: .sequentiallyConsistent)
                let deadline = ContinuousClock.now + .seconds(10)
                while !self.opened.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline { usleep(1_000) }
            }
            while !blocked.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(1)) }
        }

        func open() { opened.store(true, ordering: .sequentiallyConsistent) }
    }

    /// Eight connections, each answered once on its own (so that all are accepted and in the
    /// lane), then one produce of `value(i)` on each while the loop is held, so that it reads
    /// them all in one pass. Returns each connection's answers and the partition's statistics
    /// from before that pass.
    static func onePass(_ server: HTTP1ConnectionTests.Server, _ partition: Partition,
                        value: (Int) -> String) async throws -> (answers: [[String]], before: Partition.Statistics) {
        let clients = try (0..<8).map { _ in try Client(port: server.port) }
        for (i, client) in clients.enumerated() {
            client.send(Self.produce("warm-\(i)"))
            #expect(client.answers(1).count == 1)
        }
        let before = partition.statistics
        let gate = Gate()
        try await gate.block(server)
        for (i, client) in clients.enumerated() { client.send(Self.produce(value(i))) }
        try await Task.sleep(for: .milliseconds(100))  // every request in its socket
        gate.open()
        return (clients.map { $0.answers(1) }, before)
    }

    /// Eight connections whose requests the loop reads in one pass: one write of eight
    /// batches, eight answers with distinct offsets, the records all stored.
    @Test func theProducesOfOnePassAreAppendedWithOneWrite() async throws {
        try await Self.withServer(topic: TopicConfiguration(durability: .none)) { server, partition in
            let (answers, before) = try await Self.onePass(server, partition) { "pass-\($0)" }
            let offsets = answers.compactMap { $0.first.flatMap(Self.offset) }
            #expect(answers.allSatisfy { $0.count == 1 && $0[0].contains("offset") }, "\(answers)")
            #expect(Set(offsets) == Set(8..<16), "\(answers)")
            let after = partition.statistics
            #expect(after.appendedBatches - before.appendedBatches == 8)
            #expect(after.writes - before.writes == 1)
            let stored = try await Self.values(partition, from: 8)
            #expect(Set(stored) == Set((0..<8).map { "\"pass-\($0)\"" }))
            #expect(stored.count == 8)
        }
    }

    /// Under `fsync` the pass's produces are queued for the writer together: one write, one
    /// `fdatasync(2)`, every request answered once the sync is done.
    @Test func underFsyncTheProducesOfOnePassShareOneWriteAndOneSync() async throws {
        try await Self.withServer(topic: TopicConfiguration(durability: .fsync)) { server, partition in
            let (answers, before) = try await Self.onePass(server, partition) { "pass-\($0)" }
            let offsets = answers.compactMap { $0.first.flatMap(Self.offset) }
            #expect(Set(offsets) == Set(8..<16))
            let after = partition.statistics
            #expect(after.appendedBatches - before.appendedBatches == 8)
            #expect(after.writes - before.writes == 1)
            #expect(after.syncs - before.syncs == 1)
            #expect(Set(try await Self.values(partition, from: 8)) == Set((0..<8).map { "\"pass-\($0)\"" }))
        }
    }

    /// Requests that arrive together on one connection are answered in their order, each with
    /// the offsets of its own records, gathered or not.
    @Test func pipelinedProducesAreAnsweredInTheirOrder() async throws {
        try await Self.withServer(topic: TopicConfiguration(durability: .none)) { server, partition in
            let client = try Client(port: server.port)
            client.send((0..<6).map { Self.produce("p\($0)") }.joined() + "GET /v1/topics/g HTTP/1.1\r\nHost: a\r\n\r\n" + Self.produce("p6"))
            let answers = client.answers(8)
            #expect(answers.count == 8)
            #expect(answers.prefix(6).map { Self.offset($0) } == (0..<6).map { $0 })
            #expect(answers[6].contains(#""name":"g""#))
            #expect(Self.offset(answers[7]) == 6)
            let stored = try await Self.values(partition, from: 0)
            #expect(stored == (0..<7).map { "\"p\($0)\"" })
        }
    }

    /// A pass whose produces would roll the segment together is not written at once: every
    /// request goes on through the append that waits, and all are answered and stored.
    @Test func aPassThatWouldRollTheSegmentIsAppendedByTheWaitingPath() async throws {
        try await Self.withServer(topic: TopicConfiguration(durability: .none, segmentBytes: 1024)) { server, partition in
            let value = String(repeating: "v", count: 200)
            let (answers, _) = try await Self.onePass(server, partition) { _ in value }
            let offsets = answers.compactMap { $0.first.flatMap(Self.offset) }
            #expect(Set(offsets) == Set(8..<16))
            #expect(partition.segmentCount > 1)
            let stored = try await Self.values(partition, from: 8)
            #expect(stored.count == 8 && stored.allSatisfy { $0.count == 202 })
        }
    }
}
