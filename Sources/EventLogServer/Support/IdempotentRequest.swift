import Crypto
import EventLog
import NIOCore

/// A produce request that carries an `Idempotency-Key`: who sent it with which key, what it
/// asks, and the producer stamp its batches are appended with (Docs/HTTP-API.md).
///
/// The engine's idempotent producers do the deduplication: every partition's share of the
/// request is appended with ``stamp``, so a retry (after a partial failure, or after a
/// restart) gets each written share's original offsets back and writes only what is missing.
///
/// - ``producerID`` comes from (caller, topic, key): a SHA-256 prefix with the two top bits
///   `01`, so in `2^62 ..< 2^63`, where Kafka's `InitProducerId` (counting up from 0) never goes.
/// - The epoch is 0 and the base sequence is 30 bits of the request's ``fingerprint``: a
///   partition that holds a batch of this producer with another sequence saw another body.
struct IdempotentRequest: Sendable {
    /// The key in the server's memory of answers.
    let cacheKey: IdempotencyCache.Key
    /// SHA-256 of what the request asks: the body, whether it is JSON, and the query parameters
    /// that shape a raw record (`key`, `type`, `partition`).
    let fingerprint: [UInt8]
    /// The idempotent producer the request's batches are stamped with.
    let producerID: Int64
    /// The base sequence of every batch of the request.
    let baseSequence: Int32

    /// The stamp of each partition's batch.
    var stamp: ProducerStamp { ProducerStamp(producerID: producerID, epoch: 0, baseSequence: baseSequence) }

    init(caller: Caller, topic: String, key: String, isJSON: Bool, rawParameters: [[UInt8]?], body: ByteBuffer) {
        cacheKey = IdempotencyCache.Key(topic: topic, caller: caller, key: key)

        var content = SHA256()
        Self.update(&content, Array((isJSON ? "json" : "raw").utf8))
        for parameter in rawParameters {
            // Absent and empty differ: a length of -1 for absent.
            Self.update(&content, parameter)
        }
        body.withUnsafeReadableBytes { Self.update(&content, $0) }
        fingerprint = Array(content.finalize())
        baseSequence = Int32(Self.integer(fingerprint, bytes: 4) & 0x3FFF_FFFF)

        var identity = SHA256()
        Self.update(&identity, Array("logd idempotency producer v1".utf8))
        Self.update(&identity, caller.digest)
        Self.update(&identity, Array(topic.utf8))
        Self.update(&identity, Array(key.utf8))
        let digest = Array(identity.finalize())
        producerID = Int64(bitPattern: Self.integer(digest, bytes: 8) >> 2 | 1 << 62)
    }

    /// Feeds one length-prefixed field (`nil`: length -1), so that fields cannot run into each other.
    private static func update(_ hasher: inout SHA256, _ field: [UInt8]?) {
        guard let field else {
            withUnsafeBytes(of: Int32(-1).bigEndian) { hasher.update(bufferPointer: $0) }
            return
        }
        field.withUnsafeBytes { update(&hasher, $0) }
    }

    /// Feeds one length-prefixed field, from where its bytes are.
    private static func update(_ hasher: inout SHA256, _ field: UnsafeRawBufferPointer) {
        withUnsafeBytes(of: Int32(clamping: field.count).bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: field)
    }

    /// The first `bytes` bytes of `digest` as a big-endian integer.
    private static func integer(_ digest: [UInt8], bytes: Int) -> UInt64 {
        digest.prefix(bytes).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
