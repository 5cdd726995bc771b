import Foundation
import Logging
import Synchronization
@testable import EventLog

/// Runs `body` with a fresh temporary directory, removed afterwards whatever happens.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "eventlog-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

let testLogger: Logger = {
    var l = Logger(label: "eventlog.test")
    l.logLevel = .critical
    return l
}()

func openStore(_ dir: String, faults: FaultInjector? = nil, configure: (inout LogStore.Options) -> Void = { _ in }) async throws -> LogStore {
    var options = LogStore.Options()
    options.faults = faults
    configure(&options)
    return try await LogStore.open(at: dir, options: options, logger: testLogger)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func text(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }
func text(_ b: RecordBytes?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

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

/// A deterministic random generator (SplitMix64) so property tests can print their seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomRecord(_ rng: inout SeededRandom) -> Record {
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
