/// Walks the batches of a `.log` file between two byte positions with buffered `pread`s.
///
/// Used by recovery, index rebuilds, reads and `log-dump`. On damage it throws
/// ``LogError/Code/corruptData`` naming the file and byte position, and leaves
/// ``position`` at the start of the damaged batch, so a caller can truncate there.
package struct BatchScanner {
    let file: FileHandle
    /// Where the next batch starts.
    package private(set) var position: Int64
    /// Where scanning stops (exclusive).
    package let end: Int64
    /// Bytes `0 ..< filled` hold the file from `bufferStart`. Reused for every chunk until
    /// ``nextSharedBatch(_:)`` hands it out; the next chunk then goes to another buffer from
    /// ``pool`` (records point into the old one).
    private var buffer: ReadBuffer?
    /// Whether ``buffer`` was handed out (records point into it): it is never written again.
    private var bufferShared = false
    private var filled = 0
    private var bufferStart: Int64 = 0
    private let pool: ReadBufferPool
    private let chunkSize: Int
    /// How chunks are read: `.cachedOnly` makes a chunk not all in the page cache throw
    /// ``LogError/wouldBlock``, never wait for the disk.
    let mode: FileHandle.ReadMode

    init(file: FileHandle, start: Int64, end: Int64, chunkSize: Int = 256 << 10, pool: ReadBufferPool = .shared,
         mode: FileHandle.ReadMode = .blocking) {
        self.file = file
        self.position = start
        self.end = end
        self.chunkSize = chunkSize
        self.pool = pool
        self.mode = mode
    }

    /// Opens a scanner over a whole file (tools).
    package static func open(path: String, chunkSize: Int = 1 << 20) throws(LogError) -> BatchScanner {
        let file = try FileHandle.open(path, readOnly: true)
        return BatchScanner(file: file, start: 0, end: try file.size(), chunkSize: chunkSize)
    }

    /// Opens a scanner over `start ..< end` of a file (tools reading a slice through the index).
    package static func open(path: String, start: Int64, end: Int64? = nil, chunkSize: Int = 1 << 20) throws(LogError) -> BatchScanner {
        let file = try FileHandle.open(path, readOnly: true)
        let size = try file.size()
        return BatchScanner(file: file, start: start, end: end ?? size, chunkSize: chunkSize)
    }

    private var bufferEnd: Int64 { bufferStart + Int64(filled) }

    /// Makes `count` bytes from `position` available in the buffer; false when the file ends first.
    private mutating func ensure(_ count: Int) throws(LogError) -> Bool {
        if position >= bufferStart && position + Int64(count) <= bufferEnd { return true }
        let want = Int(min(Int64(max(count, chunkSize)), end - position))
        guard want >= count else { return false }
        if bufferShared || (buffer?.capacity ?? 0) < want {
            // Records point into a shared buffer: the next chunk goes to another, which they
            // never see. Buffers come from the pool, already faulted in (ReadBuffer.swift).
            bufferShared = false
            buffer = pool.take(atLeast: want)
        }
        filled = 0
        filled = try file.read(into: UnsafeMutableRawBufferPointer(start: buffer!.base, count: want), at: position, mode: mode)
        bufferStart = position
        return filled >= count
    }

    private func damage(_ what: String) -> LogError {
        LogError(.corruptData, "\(file.path) at byte \(position): \(what)")
    }

    /// The next batch's header, skipping its body; `nil` at `end`.
    package mutating func nextHeader() throws(LogError) -> (position: Int64, header: RecordBatchHeader)? {
        guard position < end else { return nil }
        guard try ensure(RecordBatchHeader.size) else {
            throw damage("a batch header is cut off (\(end - position) bytes before the end).")
        }
        let header: RecordBatchHeader
        let at = Int(position - bufferStart)
        do {
            header = try RecordBatchHeader(parsing: buffer!.bytes(at..<filled))
        } catch {
            throw damage(error.message)
        }
        guard position + Int64(header.totalSize) <= end else {
            throw damage("a batch of \(header.totalSize) bytes runs past the end of the data at \(end).")
        }
        let start = position
        position += Int64(header.totalSize)
        return (start, header)
    }

    /// The next whole batch, checksum verified when `verify` is set; `nil` at `end`.
    package mutating func nextBatch<T>(
        verify: Bool,
        _ body: (_ position: Int64, _ header: RecordBatchHeader, _ batch: UnsafeRawBufferPointer) throws -> T
    ) throws -> T? {
        guard let (at, header, start) = try loadBatch(verify: verify) else { return nil }
        let result = try body(at, header, buffer!.bytes(start..<start + header.totalSize))
        position = at + Int64(header.totalSize)
        return result
    }

    /// The next whole batch, checksum verified, as the scanner's buffer and where the batch
    /// starts in it; `nil` at `end`. The caller may keep the buffer (records decoded from it
    /// point into it): the scanner reads its next chunk into a new one.
    package mutating func nextSharedBatch<T>(
        _ body: (_ header: RecordBatchHeader, _ buffer: ReadBuffer, _ start: Int) throws -> T
    ) throws -> T? {
        guard let (at, header, start) = try loadBatch(verify: true) else { return nil }
        bufferShared = true
        let result = try body(header, buffer!, start)
        position = at + Int64(header.totalSize)
        return result
    }

    /// Brings the next whole batch into the buffer, checksum verified when `verify` is set:
    /// its file position, header and start in the buffer; `nil` at `end`. ``position`` stays
    /// at the batch's start until the caller is done with it.
    private mutating func loadBatch(verify: Bool) throws(LogError) -> (Int64, RecordBatchHeader, Int)? {
        let start = position
        guard let (at, header) = try nextHeader() else { return nil }
        position = start
        guard try ensure(header.totalSize) else {
            throw damage("a batch of \(header.totalSize) bytes is cut off.")
        }
        let offsetInBuffer = Int(at - bufferStart)
        if verify {
            if !RecordBatchHeader.checksumMatches(buffer!.bytes(offsetInBuffer..<offsetInBuffer + header.totalSize)) {
                throw damage("the CRC32C of the batch at offsets \(header.baseOffset)...\(header.lastOffset) does not match its bytes.")
            }
        }
        return (at, header, offsetInBuffer)
    }

    /// Moves to `position` (the start of a batch).
    package mutating func seek(to newPosition: Int64) {
        position = newPosition
    }
}
