/// A record's position in its partition: dense, starting at 0, never reused.
///
/// Arithmetic reads as it would on integers: `offset + 1` and `offset - 1` are offsets,
/// `end - start` is the distance between two offsets (an `Int64` count of offsets), and an
/// integer literal is an offset where one is expected (`partition.read(from: 0, …)`).
public struct Offset: RawRepresentable, Hashable, Comparable, Sendable, Strideable,
    ExpressibleByIntegerLiteral, CustomStringConvertible
{
    /// The offset as a signed 64-bit integer, as Kafka stores it.
    public var rawValue: Int64

    /// Wraps a raw offset.
    @inlinable public init(rawValue: Int64) { self.rawValue = rawValue }
    /// Wraps a raw offset.
    @inlinable public init(_ rawValue: Int64) { self.rawValue = rawValue }
    @inlinable public init(integerLiteral value: Int64) { self.rawValue = value }

    @inlinable public static func < (lhs: Offset, rhs: Offset) -> Bool { lhs.rawValue < rhs.rawValue }
    @inlinable public func distance(to other: Offset) -> Int64 { other.rawValue - rawValue }
    @inlinable public func advanced(by n: Int64) -> Offset { Offset(rawValue + n) }

    public var description: String { String(rawValue) }

    /// The offset `n` after `offset`.
    @inlinable public static func + (offset: Offset, n: Int64) -> Offset { Offset(offset.rawValue + n) }
    /// The offset `n` before `offset`.
    @inlinable public static func - (offset: Offset, n: Int64) -> Offset { Offset(offset.rawValue - n) }
    /// How many offsets `rhs` is before `lhs`: `end - start` counts the offsets in `start ..< end`.
    ///
    /// Disfavoured so that `offset - 1` (a literal that could be either) is the offset before,
    /// not a distance.
    @_disfavoredOverload
    @inlinable public static func - (lhs: Offset, rhs: Offset) -> Int64 { lhs.rawValue - rhs.rawValue }
    /// Moves `offset` on by `n`.
    @inlinable public static func += (offset: inout Offset, n: Int64) { offset.rawValue += n }
    /// Moves `offset` back by `n`.
    @inlinable public static func -= (offset: inout Offset, n: Int64) { offset.rawValue -= n }
}

/// A half-open range of offsets, `first ..< end`, as an append returns it.
public struct OffsetRange: Hashable, Sendable, CustomStringConvertible {
    /// The first offset in the range.
    public var first: Offset
    /// One past the last offset in the range.
    public var end: Offset

    /// Makes a range from its bounds.
    public init(first: Offset, end: Offset) {
        self.first = first
        self.end = end
    }

    /// The last offset in the range.
    public var last: Offset { end - 1 }
    /// How many offsets the range spans.
    public var count: Int { Int(end - first) }

    public var description: String { "[\(first), \(end))" }
}

/// Where a read or a tail starts.
public enum StartPosition: Hashable, Sendable {
    /// The partition's current start offset (the oldest record retained).
    case earliest
    /// The partition's end offset at the time the read starts: only records appended later.
    case latest
    /// A given offset; below the start it begins at the start, above the end at the end.
    case offset(Offset)
    /// The first record whose timestamp is at or after the given time, in milliseconds since
    /// the Unix epoch (the library's one timestamp convention, see ``Record/timestamp``).
    case timestamp(Int64)
}
