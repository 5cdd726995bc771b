import EventLog
import Synchronization

/// Reads of caught-up streams, shared: when an append wakes many streams waiting at the same
/// offset of a partition, one of them reads the records and encodes their events, and the
/// others take the result.
///
/// An entry is keyed by the partition and the offset read from, and holds the records with
/// each one's event encoded *without* its `id:` line (``ServerSentEventEncoder/recordBody(_:into:)``):
/// the id is the stream's own cursor, which differs per stream on topics of several
/// partitions, so each stream writes `id: <cursor>` itself before the shared bytes. A stream
/// takes the prefix of a chunk that fits its own batch limits, so its read-ahead bound holds.
///
/// A read of the log runs on the calling thread (the stream's or the live fan-out's event
/// loop) when its bytes are all in the page cache (``Partition/readIfCached(from:maxRecords:maxBytes:)``),
/// which records appended a moment ago are; only otherwise does it go to the store's I/O
/// threads (``Partition/read(from:maxRecords:maxBytes:)``), two thread hops.
///
/// Concurrent readers of a missing entry wait for the first one's read (no duplicate reads).
/// Bounded: at most ``capacityBytes`` of records and encoded events in total; the least
/// recently used entries go first. An entry keeps its `Partition` alive, so that a topic
/// deleted and made again never matches an old entry.
final class StreamReadCache: Sendable {
    /// Records read from `from` on, in offset order: each one's offset and timestamp, and its
    /// encoded event without the id line. The records themselves are not kept: they would keep
    /// their read's buffers (up to a megabyte each) alive, uncounted.
    struct Chunk: Sendable {
        var positions: [(offset: Offset, timestamp: Int64)]
        var events: [[UInt8]]
        var bytes: Int
    }

    private struct Key: Hashable {
        var partition: ObjectIdentifier
        var from: Int64
        /// Events are encoded for one format.
        var format: ServerSentEventEncoder.Format
    }

    private enum Entry {
        case loading(waiters: [CheckedContinuation<Chunk?, Never>])
        case ready(Chunk, partition: Partition, lastUse: UInt64)
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    /// The most bytes of records and encoded events held at once.
    let capacityBytes: Int
    private let state = Mutex(State())
    /// Reads of the log that went to the store's I/O threads: their bytes were not all in memory.
    private let ioThreadReads = Atomic<Int>(0)

    /// A cache of at most `capacityBytes`; `0` turns sharing off.
    init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
    }

    /// Reads served from an entry (or from another stream's read in flight), reads made, and
    /// how many of the reads made went to the store's I/O threads (the rest ran inline).
    var counts: (hits: Int, misses: Int, ioThreadReads: Int) {
        let (hits, misses) = state.withLock { ($0.hits, $0.misses) }
        return (hits, misses, ioThreadReads.load(ordering: .relaxed))
    }

    /// The records from `from` on (at most `maxRecords` and about `maxBytes`, at least one),
    /// with their encoded events; read and encoded once for every stream that asks the same.
    func read(_ partition: Partition, from: Offset, maxRecords: Int, maxBytes: Int,
              encoder: ServerSentEventEncoder) async throws -> Chunk {
        guard capacityBytes > 0 else {
            return try await load(partition, from: from, maxRecords: maxRecords, maxBytes: maxBytes, encoder: encoder)
        }
        let key = Key(partition: ObjectIdentifier(partition), from: from.rawValue, format: encoder.format)
        enum Lookup { case hit(Chunk), wait, load }
        let lookup: Lookup = state.withLock { state in
            state.clock += 1
            switch state.entries[key] {
            case .ready(let chunk, let partition, _)?:
                state.entries[key] = .ready(chunk, partition: partition, lastUse: state.clock)
                state.hits += 1
                return .hit(chunk)
            case .loading?:
                state.hits += 1
                return .wait
            case nil:
                state.entries[key] = .loading(waiters: [])
                state.misses += 1
                return .load
            }
        }
        switch lookup {
        case .hit(let chunk):
            return Self.prefix(of: chunk, maxRecords: maxRecords, maxBytes: maxBytes)
        case .wait:
            let shared = await withCheckedContinuation { (continuation: CheckedContinuation<Chunk?, Never>) in
                let ready: Chunk?? = state.withLock { state in
                    switch state.entries[key] {
                    case .loading(var waiters)?:
                        waiters.append(continuation)
                        state.entries[key] = .loading(waiters: waiters)
                        return nil
                    case .ready(let chunk, _, _)?: return .some(chunk)
                    case nil: return .some(nil)  // the load failed or was evicted: read alone
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
            if let shared { return Self.prefix(of: shared, maxRecords: maxRecords, maxBytes: maxBytes) }
            return try await load(partition, from: from, maxRecords: maxRecords, maxBytes: maxBytes, encoder: encoder)
        case .load:
            let chunk: Chunk
            do {
                chunk = try await load(partition, from: from, maxRecords: maxRecords, maxBytes: maxBytes, encoder: encoder)
            } catch {
                let waiters = state.withLock { state -> [CheckedContinuation<Chunk?, Never>] in
                    guard case .loading(let waiters)? = state.entries.removeValue(forKey: key) else { return [] }
                    return waiters
                }
                for waiter in waiters { waiter.resume(returning: nil) }
                throw error
            }
            let waiters = state.withLock { state -> [CheckedContinuation<Chunk?, Never>] in
                guard case .loading(let waiters)? = state.entries[key] else { return [] }
                state.clock += 1
                if chunk.bytes <= capacityBytes / 4 && !chunk.positions.isEmpty {
                    state.entries[key] = .ready(chunk, partition: partition, lastUse: state.clock)
                    state.bytes += chunk.bytes
                    Self.evict(&state, capacity: capacityBytes)
                } else {
                    state.entries[key] = nil
                }
                return waiters
            }
            for waiter in waiters { waiter.resume(returning: chunk) }
            return chunk
        }
    }

    /// Reads and encodes (from the read's buffer), without sharing: inline when the bytes are
    /// in memory, else on the store's I/O threads.
    private func load(_ partition: Partition, from: Offset, maxRecords: Int, maxBytes: Int,
                      encoder: ServerSentEventEncoder) async throws -> Chunk {
        let records: [StoredRecord]
        if let read = try partition.readIfCached(from: from, maxRecords: maxRecords, maxBytes: maxBytes) {
            records = read.records
        } else {
            ioThreadReads.add(1, ordering: .relaxed)
            records = try await partition.read(from: from, maxRecords: maxRecords, maxBytes: maxBytes).records
        }
        var events: [[UInt8]] = []
        events.reserveCapacity(records.count)
        var bytes = 0
        for record in records {
            var event: [UInt8] = []
            encoder.recordBody(record, partition: partition.index, into: &event)
            bytes += event.count + 48
            events.append(event)
        }
        return Chunk(positions: records.map { ($0.offset, $0.timestamp) }, events: events, bytes: bytes)
    }

    /// The first records of `chunk` within a stream's own limits (at least one).
    private static func prefix(of chunk: Chunk, maxRecords: Int, maxBytes: Int) -> Chunk {
        var count = 0
        var bytes = 0
        while count < chunk.positions.count && count < maxRecords {
            let size = chunk.events[count].count
            if count > 0 && bytes + size > maxBytes { break }
            bytes += size
            count += 1
        }
        guard count < chunk.positions.count else { return chunk }
        return Chunk(positions: Array(chunk.positions[..<count]), events: Array(chunk.events[..<count]), bytes: bytes)
    }

    /// Drops the least recently used ready entries until the total fits.
    private static func evict(_ state: inout State, capacity: Int) {
        while state.bytes > capacity {
            var oldest: (key: Key, use: UInt64, bytes: Int)?
            for (key, entry) in state.entries {
                guard case .ready(let chunk, _, let use) = entry else { continue }
                if oldest == nil || use < oldest!.use { oldest = (key, use, chunk.bytes) }
            }
            guard let oldest else { return }
            state.entries[oldest.key] = nil
            state.bytes -= oldest.bytes
        }
    }
}
