import EventLog
@testable import EventLogServer
import Glibc
import TestSupport
import Testing

/// Caught-up streams on one partition share one read and one encoding per appended chunk; the
/// read runs inline when its bytes are in the page cache, else on the store's I/O threads.
@Suite struct StreamReadCacheTests {
    @Test func caughtUpStreamsReadAndEncodeOncePerChunk() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await openStore(directory)
            let topic = try await store.topic(named: "shared", creatingWith: store.defaultTopicConfiguration)
            let partition = topic.partitions[0]
            let cache = StreamReadCache(capacityBytes: 4 << 20)
            let streams = 8
            let encoder = ServerSentEventEncoder()
            var tails = try (0..<streams).map { _ in
                try cache.tail(of: topic, from: TopicPosition(nextOffsets: [0]), encoder: encoder)
            }
            for chunk in 0..<3 {
                let values = (0..<5).map { Array("{\"chunk\":\(chunk),\"n\":\($0)}".utf8) }
                _ = try await partition.append(values.map { Record(value: $0) })
                for index in tails.indices {
                    var cursor = tails[index].position
                    let items = try #require(try await tails[index].read(maxRecords: 500, maxBytes: 256 << 10)).items
                    // Exactly the chunk, and the same bytes as unshared encoding.
                    #expect(items.map(\.offset.rawValue) == (0..<5).map { Int64(chunk * 5 + $0) })
                    for item in items {
                        cursor.advance(past: item)
                        #expect(cursor == TopicPosition(nextOffsets: [item.offset + 1]))
                        var shared: [UInt8] = []
                        encoder.id(cursor, into: &shared)
                        shared += item.content
                        let record = try await partition.read(from: item.offset, maxRecords: 1).records[0]
                        var alone: [UInt8] = []
                        encoder.record(record, cursor: cursor, into: &alone)
                        #expect(shared == alone)
                    }
                }
                let counts = cache.counts
                #expect(counts.misses == chunk + 1, "one read and encoding per appended chunk")
                #expect(counts.hits == (chunk + 1) * (streams - 1))
            }
            try await store.close()
        }
    }

    @Test func concurrentWakeupsShareOneRead() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await openStore(directory)
            let topic = try await store.topic(named: "wake", creatingWith: store.defaultTopicConfiguration)
            let cache = StreamReadCache(capacityBytes: 4 << 20)
            let streams = 16
            let partitions = topic.partitions
            let received = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<streams {
                    group.addTask {
                        var tail = try cache.tail(of: topic, from: TopicPosition(nextOffsets: [0]), encoder: ServerSentEventEncoder())
                        var offsets: [Int64] = []
                        while offsets.count < 10 {
                            let step = try #require(try await tail.read(maxRecords: 500, maxBytes: 256 << 10))
                            if step.isEmpty { _ = await tail.waitForRecords(timeout: .seconds(10)) }
                            offsets += step.items.map(\.offset.rawValue)
                        }
                        return offsets
                    }
                }
                try await Task.sleep(for: .milliseconds(200))  // let every stream wait, caught up
                _ = try await partitions[0].append((0..<10).map { Record(value: "\($0)") })
                var all: [[Int64]] = []
                for try await offsets in group { all.append(offsets) }
                return all
            }
            #expect(received.count == streams)
            for offsets in received { #expect(offsets == Array(0..<10)) }
            let counts = cache.counts
            #expect(counts.misses + counts.hits >= streams)
            #expect(counts.misses <= 2, "the woken streams share the read (\(counts))")
            try await store.close()
        }
    }

    /// How a chunk's reads find their bytes: in memory, not in memory (`EAGAIN` from
    /// `preadv2(RWF_NOWAIT)`, simulated), or only partly (a short read, simulated).
    enum PageCache: CaseIterable { case holdsTheBytes, missesThem, holdsPartOfThem }

    @Test func readsRunInlineWhenTheBytesAreInMemoryAndFallBackLosingNothingWhenNot() async throws {
        try await withTemporaryDirectory { directory in
            let faults = FaultInjector()
            let store = try await openStore(directory, faults: faults)
            let topic = try await store.topic(named: "inline", creatingWith: TopicConfiguration(partitions: 2, durability: .none))
            let cache = StreamReadCache(capacityBytes: 4 << 20)
            let encoder = ServerSentEventEncoder()
            var tails = try (0..<4).map { _ in try cache.tail(of: topic, from: TopicPosition(nextOffsets: [0, 0]), encoder: encoder) }
            var received = Array(repeating: [[Int64]](repeating: [], count: 2), count: tails.count)
            var expectedFallbacks = 0
            for chunk in 0..<9 {
                let pageCache = PageCache.allCases[chunk % 3]
                for (index, partition) in topic.partitions.enumerated() {
                    _ = try await partition.append((0..<5).map { Record(value: "{\"chunk\":\(chunk),\"p\":\(index),\"n\":\($0)}") })
                }
                switch pageCache {
                case .holdsTheBytes: faults.clear()
                case .missesThem: faults.fail(.preadCached, errno: EAGAIN, times: .max)
                case .holdsPartOfThem: faults.fail(.preadCached, errno: EAGAIN, times: .max, partialBytes: 10)
                }
                if pageCache != .holdsTheBytes { expectedFallbacks += topic.partitions.count }
                for index in tails.indices {
                    let items = try #require(try await tails[index].read(maxRecords: 500, maxBytes: 256 << 10)).items
                    #expect(items.count == 10, "the whole chunk, from both partitions")
                    for item in items {
                        received[index][item.partition].append(item.offset.rawValue)
                        let event = String(decoding: item.content, as: UTF8.self)
                        #expect(event.contains("{\"chunk\":\(chunk),\"p\":\(item.partition),\"n\":\(item.offset.rawValue % 5)}"), "\(event)")
                    }
                }
                let counts = cache.counts
                #expect(counts.misses == (chunk + 1) * topic.partitions.count, "one read per partition per chunk, shared")
                #expect(counts.ioThreadReads == expectedFallbacks, "\(pageCache): reads on the I/O threads only for bytes not in memory")
            }
            faults.clear()
            // Every record exactly once, in offset order, whichever way it was read.
            for streams in received { #expect(streams == [Array(0..<45), Array(0..<45)]) }
            try await store.close()
        }
    }
}
