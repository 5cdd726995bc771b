import CZlib

/// A gzip member compressed incrementally with the system zlib, for one streaming response.
///
/// Each ``compress(_:into:)`` ends in `deflate(…, Z_SYNC_FLUSH)`: everything given so far
/// comes out at once, byte-aligned, so a client's inflater decodes each event as it arrives.
/// ``finish(into:)`` writes the gzip trailer. The zlib state is bounded: a 32 KiB window and
/// `memLevel` 8 make about 256 KiB (``stateBytes``), allocated once per stream.
///
/// One stream's value, used by one task; not `Sendable`.
final class GzipStream {
    /// The deflate window: 2^15 bytes, which any inflater accepts.
    static let windowBits: Int32 = 15
    /// zlib's hash-table size parameter; 8 is its default.
    static let memoryLevel: Int32 = 8
    /// The memory deflate holds for one stream: `(1 << (windowBits + 2)) + (1 << (memLevel + 9))`
    /// bytes, as zlib's `zconf.h` documents.
    static let stateBytes = (1 << (Int(windowBits) + 2)) + (1 << (Int(memoryLevel) + 9))

    private let stream: UnsafeMutablePointer<z_stream>
    private var finished = false

    /// Starts a gzip member (zlib's `windowBits + 16`) at `level` (1 fastest … 9 smallest).
    init(level: Int32 = 6) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, level, Z_DEFLATED, Self.windowBits + 16, Self.memoryLevel, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` and flushes it (`Z_SYNC_FLUSH`), appending the output to `output`.
    func compress(_ input: [UInt8], into output: inout [UInt8]) {
        deflate(input, flush: Z_SYNC_FLUSH, into: &output)
    }

    /// Ends the gzip member (`Z_FINISH`): the last block and the CRC-32 and size trailer.
    func finish(into output: inout [UInt8]) {
        guard !finished else { return }
        finished = true
        deflate([], flush: Z_FINISH, into: &output)
    }

    private func deflate(_ input: [UInt8], flush: Int32, into output: inout [UInt8]) {
        precondition(!finished || flush == Z_FINISH, "compress after finish")
        var chunk = [UInt8](repeating: 0, count: max(256, Int(deflateBound(stream, UInt(input.count))) + 16))
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = UInt32(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { target -> (Int32, Int) in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    let status = CZlib.deflate(stream, flush)
                    return (status, target.count - Int(stream.pointee.avail_out))
                }
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed: \(status)")
                output.append(contentsOf: chunk[0..<produced])
                // Done when deflate left room in the output: all input taken and the flush complete.
                if status == Z_STREAM_END || (stream.pointee.avail_out != 0 && stream.pointee.avail_in == 0) { break }
                if status == Z_BUF_ERROR { break }
            }
            stream.pointee.next_in = nil
        }
    }
}

/// Whether an `Accept-Encoding` value accepts gzip (RFC 9110 §12.5.3): `gzip` or `x-gzip`
/// listed without `q=0`.
func acceptsGzip(_ acceptEncoding: String?) -> Bool {
    guard let acceptEncoding else { return false }
    for item in acceptEncoding.split(separator: ",") {
        let parts = item.split(separator: ";").map { String($0.filter { $0 != " " && $0 != "\t" }).lowercased() }
        guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" else { continue }
        let refused = parts.dropFirst().contains { parameter in
            guard parameter.hasPrefix("q=") else { return false }
            return (Double(parameter.dropFirst(2)) ?? 1) == 0
        }
        return !refused
    }
    return false
}
