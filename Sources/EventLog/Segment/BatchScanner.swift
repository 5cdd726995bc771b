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
    /// Reused for every chunk: bytes `0 ..< filled` hold the file from `bufferStart`.
    private var buffer: [UInt8] = []
    private var filled = 0
    private var bufferStart: Int64 = 0
    private let chunkSize: Int

    init(file: FileHandle, start: Int64, end: Int64, chunkSize: Int = 256 << 10) {
        self.file = file
        self.position = start
        self.end = end
        self.chunkSize = chunkSize
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
        if buffer.count < want {
            // Grown, never shrunk: one allocation per scanner, not one per chunk.
            buffer = [UInt8](repeating: 0, count: want)
        }
        filled = 0
        let at = position
        let read = buffer.withUnsafeMutableBytes { raw -> Result<Int, LogError> in
            do throws(LogError) {
                return .success(try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), at: at))
            } catch {
                return .failure(error)
            }
        }
        filled = try read.get()
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
            header = try withBytes(buffer) { raw throws(LogError) in
                try RecordBatchHeader(parsing: UnsafeRawBufferPointer(rebasing: raw[at...]))
            }
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
        let start = position
        guard let (at, header) = try nextHeader() else { return nil }
        position = start
        guard try ensure(header.totalSize) else {
            throw damage("a batch of \(header.totalSize) bytes is cut off.")
        }
        let offsetInBuffer = Int(at - bufferStart)
        let result = try buffer.withUnsafeBytes { raw in
            let batch = UnsafeRawBufferPointer(rebasing: raw[offsetInBuffer..<offsetInBuffer + header.totalSize])
            if verify && !RecordBatchHeader.checksumMatches(batch) {
                throw damage("the CRC32C of the batch at offsets \(header.baseOffset)...\(header.lastOffset) does not match its bytes.")
            }
            return try body(at, header, batch)
        }
        position = at + Int64(header.totalSize)
        return result
    }

    /// Moves to `position` (the start of a batch).
    package mutating func seek(to newPosition: Int64) {
        position = newPosition
    }
}
