/// The bytes of one write to an event stream, appended event by event.
///
/// Plain streams append each event's text as it is. Gzip streams (`Accept-Encoding: gzip`)
/// compress each event and flush it on its own (`Z_SYNC_FLUSH`), so that a client decodes
/// every event as soon as it arrives, as the uncompressed stream would deliver it.
struct EventStreamOutput {
    private let gzip: GzipStream?
    private var frame: [UInt8] = []
    /// What to write next.
    private(set) var bytes: [UInt8] = []

    /// An output that gzips when `compressed`.
    init(compressed: Bool) {
        gzip = compressed ? GzipStream() : nil
    }

    /// The memory a stream's compressor holds, counted in its per-connection bound.
    var compressorBytes: Int { gzip == nil ? 0 : GzipStream.stateBytes }

    /// Appends one event (or comment, or `retry:` line) that `encode` writes.
    mutating func event(_ encode: (inout [UInt8]) -> Void) {
        guard let gzip else { return encode(&bytes) }
        frame.removeAll(keepingCapacity: true)
        encode(&frame)
        gzip.compress(frame, into: &bytes)
    }

    /// Appends an already encoded event.
    mutating func event(bytes encoded: some Collection<UInt8>) {
        event { $0.append(contentsOf: encoded) }
    }

    /// Ends the gzip member with its trailer; nothing for plain streams.
    mutating func finish() {
        gzip?.finish(into: &bytes)
    }

    /// Takes what was appended, leaving the output empty.
    mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}
