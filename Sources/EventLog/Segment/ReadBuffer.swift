import Synchronization

/// Bytes a read filled, shared by the records that point into them (``StoredRecord``,
/// ``RecordBytes``, ``RecordHeaders``): Docs/adr/0002-zero-copy-reads.md.
///
/// Written only while one owner holds it (the batch scanner filling it, or the code making a
/// record's own copy); read-only once a record points into it. Reference counting keeps it
/// alive as long as any record, key, value or header view does.
@usableFromInline
package final class ReadBuffer: @unchecked Sendable {
    // @unchecked: the memory is written only while the writer's reference is the only one
    // (`ReadBufferPool` checks that with `isKnownUniquelyReferenced`), then only read.
    /// The first byte.
    package let base: UnsafeMutableRawPointer
    /// How many bytes the buffer can hold.
    package let capacity: Int
    /// When the pool last handed it out (its clock), to let idle buffers go.
    fileprivate var lastUse: UInt64 = 0

    /// An uninitialised buffer of `capacity` bytes.
    package init(capacity: Int) {
        precondition(capacity >= 0, "a buffer's capacity is not negative")
        self.capacity = capacity
        base = .allocate(byteCount: max(capacity, 1), alignment: 16)
    }

    /// A buffer holding a copy of `bytes`, exactly their size.
    package convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(capacity: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 { base.copyMemory(from: source, byteCount: bytes.count) }
    }

    /// A buffer holding a copy of `bytes`, exactly their size.
    package convenience init(copying bytes: [UInt8]) {
        self.init(capacity: bytes.count)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { base.copyMemory(from: source, byteCount: $0.count) } }
    }

    deinit {
        base.deallocate()
    }

    /// The bytes `range` (within the capacity).
    package func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= capacity, "a range inside the buffer")
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Calls `body` with the first `count` bytes.
    package func withUnsafeBytes<R, E: Error>(count: Int, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(bytes(0..<count))
    }
}

/// Read buffers kept for reuse, so that a read does not fault in fresh memory for every chunk
/// it reads: a buffer comes back to the pool by itself when the last record pointing into it
/// goes (the pool then holds the only reference).
///
/// Without it, sequential reads spent about half their time in page faults: `malloc` hands a
/// megabyte-sized buffer back to the kernel when it is freed, and the next read's buffer is
/// faulted in and zeroed page by page (Docs/BENCHMARKS.md, read-sequential).
///
/// Bounded: at most ``capacityBytes`` of buffers, of sizes 16 KiB to 1 MiB (powers of two);
/// larger buffers and any beyond the bound are ordinary allocations, freed with their last
/// record. Buffers the pool holds that have not been handed out for ``idleTicks`` takes are let go.
package final class ReadBufferPool: Sendable {
    /// The smallest buffer the pool keeps: 16 KiB.
    static let smallestShift = 14
    /// The largest: 1 MiB.
    static let largestShift = 20

    private struct State {
        /// Buffers by size class (16 KiB << index).
        var classes: [[ReadBuffer]] = Array(repeating: [], count: ReadBufferPool.largestShift - ReadBufferPool.smallestShift + 1)
        var bytes = 0
        var clock: UInt64 = 0
    }

    /// The most bytes of buffers the pool keeps.
    package let capacityBytes: Int
    /// Takes after which a buffer not handed out is let go.
    package let idleTicks: UInt64
    private let state: Mutex<State>

    /// A pool keeping at most `capacityBytes` of buffers.
    package init(capacityBytes: Int, idleTicks: UInt64 = 4096) {
        self.capacityBytes = capacityBytes
        self.idleTicks = idleTicks
        state = Mutex(State())
    }

    /// The pool the store's reads share: 32 MiB at most, enough for two concurrent reads of
    /// the largest size (16 MiB).
    package static let shared = ReadBufferPool(capacityBytes: 32 << 20)

    /// Bytes of buffers the pool holds (in use or free).
    package var heldBytes: Int { state.withLock { $0.bytes } }

    /// A buffer of at least `count` bytes that nothing else references: a free pooled one when
    /// there is one, else a new one (pooled while the pool has room).
    package func take(atLeast count: Int) -> ReadBuffer {
        let shift = max(Self.smallestShift, Int.bitWidth - (max(count, 1) - 1).leadingZeroBitCount)
        guard shift <= Self.largestShift else { return ReadBuffer(capacity: count) }
        let size = 1 << shift
        let slot = shift - Self.smallestShift
        return state.withLock { state in
            state.clock &+= 1
            let now = state.clock
            var found: ReadBuffer?
            var index = 0
            while index < state.classes[slot].count {
                if isKnownUniquelyReferenced(&state.classes[slot][index]) {
                    let buffer = state.classes[slot][index]
                    if found == nil {
                        found = buffer
                    } else if now &- buffer.lastUse > idleTicks {
                        // Free and idle for long: let it go.
                        state.classes[slot].swapAt(index, state.classes[slot].count - 1)
                        state.classes[slot].removeLast()
                        state.bytes -= buffer.capacity
                        continue
                    }
                }
                index += 1
            }
            if let found {
                found.lastUse = now
                return found
            }
            let buffer = ReadBuffer(capacity: size)
            buffer.lastUse = now
            if state.bytes + size <= capacityBytes {
                state.classes[slot].append(buffer)
                state.bytes += size
            }
            return buffer
        }
    }
}
