/// Kafka's framing: every request and response is an int32 size, then that many bytes (header
/// and body).
public enum KafkaFraming {
    /// The bytes of the size prefix.
    public static let prefixBytes = 4

    /// The default largest frame accepted: 100 MiB, Kafka's `socket.request.max.bytes`.
    public static let defaultMaxFrameBytes = 100 * 1024 * 1024

    /// The fewest bytes a request frame can have: a v1 header with a null client id.
    public static let minimumRequestBytes = 10

    /// The size of the frame that `prefix` (the first four bytes, big-endian) announces.
    ///
    /// - Throws: ``KafkaProtocolError/Code/invalidFrameSize`` when the size is negative, below
    ///   `minimum`, or above `maxFrameBytes`; the caller should close the connection without
    ///   reading (or allocating for) the announced bytes.
    public static func frameSize(prefix: Int32, minimum: Int = minimumRequestBytes, maxFrameBytes: Int = defaultMaxFrameBytes) throws(KafkaProtocolError) -> Int {
        guard prefix >= 0 else {
            throw KafkaProtocolError(.invalidFrameSize, "a frame announces the negative size \(prefix).")
        }
        guard Int(prefix) >= minimum else {
            throw KafkaProtocolError(.invalidFrameSize, "a frame of \(prefix) bytes is shorter than the \(minimum) bytes of the smallest header.")
        }
        guard Int(prefix) <= maxFrameBytes else {
            throw KafkaProtocolError(.invalidFrameSize, "a frame of \(prefix) bytes is larger than the maximum of \(maxFrameBytes).")
        }
        return Int(prefix)
    }

    /// The size of the frame at the start of `bytes` once its prefix has arrived, or `nil`
    /// while fewer than four bytes are there.
    ///
    /// - Throws: as ``frameSize(prefix:minimum:maxFrameBytes:)``.
    public static func frameSize(at bytes: some Collection<UInt8>, minimum: Int = minimumRequestBytes, maxFrameBytes: Int = defaultMaxFrameBytes) throws(KafkaProtocolError) -> Int? {
        guard bytes.count >= prefixBytes else { return nil }
        let prefix = bytes.prefix(prefixBytes).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return try frameSize(prefix: Int32(bitPattern: prefix), minimum: minimum, maxFrameBytes: maxFrameBytes)
    }
}
