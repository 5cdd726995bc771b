internal import CLZ4
internal import CZstd
import Synchronization

/// Reusable codec contexts: creating an LZ4 or Zstd context per batch costs more than
/// compressing a small batch, so contexts are borrowed from a pool and returned.
final class CodecContextPool: Sendable {
    private let free = Mutex<[UInt]>([])
    private let make: @Sendable () -> UInt?
    private let destroy: @Sendable (OpaquePointer) -> Void
    private let limit: Int

    init(limit: Int = 64, make: @escaping @Sendable () -> UInt?, destroy: @escaping @Sendable (OpaquePointer) -> Void) {
        self.make = make
        self.destroy = destroy
        self.limit = limit
    }

    /// Runs `body` with a context, creating one when none is free.
    func with<R>(_ body: (OpaquePointer) throws(LogError) -> R) throws(LogError) -> R {
        let reused = free.withLock { $0.popLast() }
        guard let raw = reused ?? make(), let ctx = OpaquePointer(bitPattern: raw) else {
            throw LogError(.ioError, "out of memory for a compression context.")
        }
        defer {
            let kept = free.withLock { list -> Bool in
                guard list.count < limit else { return false }
                list.append(raw)
                return true
            }
            if !kept { destroy(ctx) }
        }
        return try body(ctx)
    }
}

/// Whole-batch compression with the system's liblz4 (frame format) and libzstd.
package enum Compression {
    /// The largest decompressed records section a batch may declare: a guard against
    /// corrupt or hostile sizes, far above any batch an append accepts.
    static let maxDecompressedBytes = 256 << 20

    /// The Zstandard level used for new batches (1: fast, as the append path wants).
    static let zstdLevel: Int32 = 1

    static let lz4Compressors = CodecContextPool(make: {
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let ctx else { return nil }
        return UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(ctx)))
    }, destroy: { _ = LZ4F_freeCompressionContext($0) })
    static let lz4Decompressors = CodecContextPool(make: {
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let ctx else { return nil }
        return UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(ctx)))
    }, destroy: { _ = LZ4F_freeDecompressionContext($0) })
    static let zstdCompressors = CodecContextPool(make: {
        ZSTD_createCCtx().map { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer($0))) }
    }, destroy: { _ = ZSTD_freeCCtx($0) })
    static let zstdDecompressors = CodecContextPool(make: {
        ZSTD_createDCtx().map { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer($0))) }
    }, destroy: { _ = ZSTD_freeDCtx($0) })

    /// Compresses `input` with `codec`, appending the result to `output`.
    static func compress(_ input: UnsafeRawBufferPointer, codec: CompressionCodec, into output: inout [UInt8]) throws(LogError) {
        switch codec {
        case .none:
            output.append(contentsOf: input)
        case .lz4:
            var prefs = LZ4F_preferences_t()
            prefs.frameInfo.contentSize = UInt64(input.count)
            prefs.frameInfo.blockSizeID = LZ4F_max64KB
            // Independent blocks, as Kafka's own LZ4 writer sets them: each block compresses
            // without the previous one as a dictionary (the faster path in liblz4).
            prefs.frameInfo.blockMode = LZ4F_blockIndependent
            let bound = LZ4F_compressFrameBound(input.count, &prefs)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: bound))
            // Begin, update, end on a pooled context: the same frame as LZ4F_compressFrame
            // without allocating and initialising a context per batch.
            let written = try lz4Compressors.with { ctx throws(LogError) in
                output.withUnsafeMutableBytes { out -> Int in
                    let dst = out.baseAddress! + start
                    let head = LZ4F_compressBegin(ctx, dst, bound, &prefs)
                    if LZ4F_isError(head) != 0 { return head }
                    let body = LZ4F_compressUpdate(ctx, dst + head, bound - head, input.baseAddress, input.count, nil)
                    if LZ4F_isError(body) != 0 { return body }
                    let tail = LZ4F_compressEnd(ctx, dst + head + body, bound - head - body, nil)
                    if LZ4F_isError(tail) != 0 { return tail }
                    return head + body + tail
                }
            }
            if LZ4F_isError(written) != 0 {
                output.removeLast(bound)
                throw LogError(.invalidArgument, "LZ4 compression failed: \(String(cString: LZ4F_getErrorName(written))).")
            }
            output.removeLast(bound - written)
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: bound))
            let written = try zstdCompressors.with { ctx throws(LogError) in
                output.withUnsafeMutableBytes { out in
                    ZSTD_compressCCtx(ctx, out.baseAddress! + start, bound, input.baseAddress, input.count, zstdLevel)
                }
            }
            if ZSTD_isError(written) != 0 {
                output.removeLast(bound)
                throw LogError(.invalidArgument, "Zstd compression failed: \(String(cString: ZSTD_getErrorName(written))).")
            }
            output.removeLast(bound - written)
        }
    }

    /// Decompresses a whole compressed records section.
    package static func decompress(_ input: UnsafeRawBufferPointer, codec: CompressionCodec) throws(LogError) -> [UInt8] {
        switch codec {
        case .none:
            return Array(input)
        case .lz4:
            return try decompressLZ4(input)
        case .zstd:
            return try decompressZstd(input)
        }
    }

    private static func decompressZstd(_ input: UnsafeRawBufferPointer) throws(LogError) -> [UInt8] {
        guard let base = input.baseAddress else { throw LogError(.corruptData, "an empty Zstd frame.") }
        let size = ZSTD_getFrameContentSize(base, input.count)
        if size == ZSTD_CONTENTSIZE_ERROR {
            throw LogError(.corruptData, "a batch's Zstd frame header is invalid.")
        }
        if size != ZSTD_CONTENTSIZE_UNKNOWN {
            guard size <= UInt64(maxDecompressedBytes) else {
                throw LogError(.corruptData, "a batch declares \(size) decompressed bytes, over the \(maxDecompressedBytes) limit.")
            }
            var out = [UInt8](repeating: 0, count: Int(size))
            let n = try zstdDecompressors.with { ctx throws(LogError) in
                out.withUnsafeMutableBytes { ZSTD_decompressDCtx(ctx, $0.baseAddress, Int(size), base, input.count) }
            }
            guard ZSTD_isError(n) == 0, n == Int(size) else {
                throw LogError(.corruptData, "a batch's Zstd data does not decompress: \(String(cString: ZSTD_getErrorName(n))).")
            }
            return out
        }
        // Unknown content size (a frame written by another producer): stream it, bounded.
        guard let stream = ZSTD_createDStream() else { throw LogError(.ioError, "out of memory for a Zstd stream.") }
        defer { ZSTD_freeDStream(stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var inBuf = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        while true {
            let (r, produced) = chunk.withUnsafeMutableBytes { c -> (Int, Int) in
                var outBuf = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                let r = ZSTD_decompressStream(stream, &outBuf, &inBuf)
                return (r, outBuf.pos)
            }
            if ZSTD_isError(r) != 0 {
                throw LogError(.corruptData, "a batch's Zstd data does not decompress: \(String(cString: ZSTD_getErrorName(r))).")
            }
            out.append(contentsOf: chunk[0..<produced])
            guard out.count <= maxDecompressedBytes else {
                throw LogError(.corruptData, "a batch decompresses past the \(maxDecompressedBytes)-byte limit.")
            }
            if r == 0 { return out }
            if inBuf.pos == inBuf.size && produced == 0 {
                throw LogError(.corruptData, "a batch's Zstd frame is truncated.")
            }
        }
    }

    private static func decompressLZ4(_ input: UnsafeRawBufferPointer) throws(LogError) -> [UInt8] {
        try lz4Decompressors.with { ctx throws(LogError) in
            defer { LZ4F_resetDecompressionContext(ctx) }
            return try decompressLZ4(input, ctx)
        }
    }

    private static func decompressLZ4(_ input: UnsafeRawBufferPointer, _ ctx: OpaquePointer) throws(LogError) -> [UInt8] {
        var out: [UInt8] = []
        var info = LZ4F_frameInfo_t()
        var consumed = input.count
        let headerResult = LZ4F_getFrameInfo(ctx, &info, input.baseAddress, &consumed)
        guard LZ4F_isError(headerResult) == 0 else {
            throw LogError(.corruptData, "a batch's LZ4 frame header is invalid: \(String(cString: LZ4F_getErrorName(headerResult))).")
        }
        if info.contentSize > 0 {
            guard info.contentSize <= UInt64(maxDecompressedBytes) else {
                throw LogError(.corruptData, "a batch declares \(info.contentSize) decompressed bytes, over the limit.")
            }
            out.reserveCapacity(Int(info.contentSize))
        }
        var position = consumed
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var srcSize = input.count - position
            var dstSize = chunk.count
            let hint = chunk.withUnsafeMutableBytes { c in
                LZ4F_decompress(ctx, c.baseAddress, &dstSize, input.baseAddress! + position, &srcSize, nil)
            }
            guard LZ4F_isError(hint) == 0 else {
                throw LogError(.corruptData, "a batch's LZ4 data does not decompress: \(String(cString: LZ4F_getErrorName(hint))).")
            }
            position += srcSize
            out.append(contentsOf: chunk[0..<dstSize])
            guard out.count <= maxDecompressedBytes else {
                throw LogError(.corruptData, "a batch decompresses past the \(maxDecompressedBytes)-byte limit.")
            }
            if hint == 0 { return out }
            if position >= input.count && dstSize == 0 {
                throw LogError(.corruptData, "a batch's LZ4 frame is truncated.")
            }
        }
    }
}
