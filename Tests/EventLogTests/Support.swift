import Foundation
import Synchronization
import TestSupport
@testable import EventLog

/// Copies a data directory as a crash would leave it: every file as it is now, no clean marker,
/// no lock held. (The page cache is the disk here; torn writes are made by truncating.)
func crashCopy(of dir: String) throws -> String {
    let copy = dir + "-crash-" + UUID().uuidString.prefix(8)
    try FileManager.default.copyItem(atPath: dir, toPath: copy)
    try? FileManager.default.removeItem(atPath: copy + "/.clean-shutdown")
    return copy
}

/// Reads every record of a partition from its start.
func readAll(_ p: Partition) async throws -> [StoredRecord] {
    var out: [StoredRecord] = []
    var next = p.startOffset
    while next < p.endOffset {
        let r = try await p.read(from: next, maxRecords: 10_000)
        out += r.records
        if r.nextOffset == next { break }
        next = r.nextOffset
    }
    return out
}

/// Store options without the background cleaner, for tests that run passes themselves:
/// `openStore(dir, configure: noBackgroundCleaner)`.
func noBackgroundCleaner(_ options: inout LogStore.Options) { options.cleanerInterval = nil }

/// A compacted topic's configuration with small segments and a dense index.
func compactedConfiguration(segmentBytes: Int64 = 2048, deleteRetentionMs: Int64 = 24 * 3_600_000) -> TopicConfiguration {
    var config = TopicConfiguration(durability: .none, cleanupPolicy: .compact, segmentBytes: segmentBytes)
    config.deleteRetention = .milliseconds(deleteRetentionMs)
    config.indexIntervalBytes = 256
    return config
}

/// A random record (keys, values, headers, timestamps each sometimes absent) from `rng`.
func randomRecord(_ rng: inout SplitMix64) -> Record {
    func randomBytes(_ max: Int) -> [UInt8] {
        let n = Int.random(in: 0...max, using: &rng)
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
    let key: [UInt8]? = Bool.random(using: &rng) ? randomBytes(40) : nil
    let value: [UInt8]? = Int.random(in: 0..<10, using: &rng) == 0 ? nil : randomBytes(600)
    let headers = (0..<Int.random(in: 0...3, using: &rng)).map { i in RecordHeader(name: "h\(i)-" + String(Int.random(in: 0...999, using: &rng)), value: randomBytes(20)) }
    let ts: Int64? = Bool.random(using: &rng) ? Int64.random(in: 0...4_000_000_000_000, using: &rng) : nil
    return Record(key: key, value: value, headers: RecordHeaders(headers), timestamp: ts)
}

/// A settable wall clock for a store (`LogStore.Options.clock`): record, tombstone and
/// retention times.
final class TestClock: Sendable {
    let ms: Atomic<Int64>
    init(_ start: Int64) { ms = Atomic(start) }
    func advance(by delta: Int64) { ms.add(delta, ordering: .relaxed) }
    var clock: Partition.Clock { Partition.Clock(now: { self.ms.load(ordering: .relaxed) }) }
}

/// Memory owned by an object, as a server's request buffer is.
final class OwnedBytes {
    let memory: UnsafeMutableRawBufferPointer
    init(_ bytes: [UInt8]) {
        memory = .allocate(byteCount: bytes.count, alignment: 1)
        memory.copyBytes(from: bytes)
    }
    deinit { memory.deallocate() }
}
