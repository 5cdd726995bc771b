public import EventLog

/// A stream's position: per partition, the offset of the last record delivered (`-1` before any).
///
/// Written as an SSE `id:` and read back from `Last-Event-ID`: for one partition the number
/// itself (so a record's id is its offset), for several the numbers in partition order joined
/// by `,` (`17,4,-1`). Only digits, `-` and `,`: CORS-safe, so a browser resumes without a preflight.
public struct StreamCursor: Hashable, Sendable, CustomStringConvertible {
    /// Per partition, the last delivered offset, or `-1`.
    public var lastDelivered: [Int64]

    /// Makes a cursor from the last delivered offset of each partition.
    public init(lastDelivered: [Int64]) {
        self.lastDelivered = lastDelivered
    }

    /// Parses a cursor: one or more decimal numbers, each `-1` or a non-negative 64-bit integer
    /// below `Int64.max` (so that the next offset exists) without sign or leading zeros,
    /// separated by `,`. Returns `nil` for anything else.
    public init?(parsing text: some StringProtocol) {
        var values: [Int64] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = ClientNumber.parse(part, in: ClientNumber.cursorComponents) else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.lastDelivered = values
    }

    /// The cursor's text: `17` or `17,4,-1`.
    public var description: String {
        lastDelivered.map(String.init).joined(separator: ",")
    }

    /// The offset of the next record to deliver on `partition`.
    public func nextOffset(partition: Int) -> Offset { Offset(lastDelivered[partition] + 1) }

    /// Records that `offset` was delivered on `partition`.
    public mutating func advance(partition: Int, past offset: Offset) {
        lastDelivered[partition] = offset.rawValue
    }
}
