/// One header of a record: a name and bytes (Kafka's record header).
public struct RecordHeader: Hashable, Sendable {
    /// The header's name.
    public var name: String
    /// The header's value.
    public var value: RecordBytes

    /// Makes a header from a string (its UTF-8) or bytes.
    public init(name: String, value: some RecordBytesConvertible) {
        self.name = name
        self.value = value.recordBytes
    }
}

/// A record's headers, in order; names may repeat.
///
/// Written as a literal in the order given, never sorted:
///
/// ```swift
/// Record(value: payload, headers: ["type": "order.placed", "trace": traceID])
/// ```
///
/// (a dictionary literal here keeps its order and its repeated names; a `Dictionary` value is
/// not accepted, since it has no order). `headers["type"]` is the first value of that name.
///
/// The headers of a ``StoredRecord`` are read in place from the read's buffer, one by one as
/// they are visited: looking one up allocates nothing.
public struct RecordHeaders: Sendable {
    private enum Storage: Sendable {
        /// Headers given one by one.
        case list([RecordHeader])
        /// Kafka's encoding (after the count) in a read's buffer, framing already checked.
        case encoded(buffer: ReadBuffer, range: Range<Int>, count: Int)
    }

    private var storage: Storage

    /// No headers.
    public init() {
        storage = .list([])
    }

    /// Headers in the order given.
    public init(_ headers: some Sequence<RecordHeader>) {
        storage = .list(Array(headers))
    }

    /// The `count` headers encoded in `range` of `buffer`, whose framing was checked.
    init(encoded buffer: ReadBuffer, range: Range<Int>, count: Int) {
        storage = count == 0 ? .list([]) : .encoded(buffer: buffer, range: range, count: count)
    }

    /// The value of the first header named `name`, if any.
    public subscript(name: String) -> RecordBytes? {
        switch storage {
        case .list(let list):
            return list.first { $0.name == name }?.value
        case .encoded(let buffer, _, _):
            var i = startIndex
            while i < endIndex {
                let entry = Self.entry(in: buffer, at: i.position)
                let matches = withExtendedLifetime(buffer) {
                    var name = name
                    return name.withUTF8 { UnsafeRawBufferPointer($0).elementsEqual(buffer.bytes(entry.name)) }
                }
                if matches { return Self.value(of: entry, in: buffer) }
                i = Index(ordinal: i.ordinal + 1, position: entry.end)
            }
            return nil
        }
    }

    /// Adds a header at the end.
    public mutating func append(_ header: RecordHeader) {
        var list = Array(self)
        list.append(header)
        storage = .list(list)
    }

    /// Adds a header at the end.
    public mutating func append(name: String, value: some RecordBytesConvertible) {
        append(RecordHeader(name: name, value: value))
    }

    /// Where the header at `position` of `buffer` keeps its name and value, and where it ends.
    private static func entry(in buffer: ReadBuffer, at position: Int) -> (name: Range<Int>, value: Range<Int>?, end: Int) {
        withExtendedLifetime(buffer) {
            var reader = ByteReader(buffer.bytes(0..<buffer.capacity), position: position)
            do {
                guard let name = try reader.readBytesRange() else { preconditionFailure("a header name was checked when its record was decoded") }
                let value = try reader.readBytesRange()
                return (name, value, reader.position)
            } catch {
                preconditionFailure("header framing was checked when its record was decoded: \(error)")
            }
        }
    }

    private static func value(of entry: (name: Range<Int>, value: Range<Int>?, end: Int), in buffer: ReadBuffer) -> RecordBytes {
        // A null header value (Kafka allows it) reads as empty bytes.
        entry.value.map { RecordBytes(buffer, start: $0.lowerBound, count: $0.count) } ?? RecordBytes()
    }
}

extension RecordHeaders: Collection {
    /// A position in the headers.
    public struct Index: Comparable, Sendable {
        /// Which header: 0 for the first.
        let ordinal: Int
        /// Where it starts in an encoded section (0 for a list).
        let position: Int

        public static func == (lhs: Index, rhs: Index) -> Bool { lhs.ordinal == rhs.ordinal }
        public static func < (lhs: Index, rhs: Index) -> Bool { lhs.ordinal < rhs.ordinal }
    }

    public var startIndex: Index {
        switch storage {
        case .list: Index(ordinal: 0, position: 0)
        case .encoded(_, let range, _): Index(ordinal: 0, position: range.lowerBound)
        }
    }

    public var endIndex: Index {
        switch storage {
        case .list(let list): Index(ordinal: list.count, position: 0)
        case .encoded(_, let range, let count): Index(ordinal: count, position: range.upperBound)
        }
    }

    public var count: Int {
        switch storage {
        case .list(let list): list.count
        case .encoded(_, _, let count): count
        }
    }

    public var isEmpty: Bool { count == 0 }

    public func index(after i: Index) -> Index {
        switch storage {
        case .list: Index(ordinal: i.ordinal + 1, position: 0)
        case .encoded(let buffer, _, _): Index(ordinal: i.ordinal + 1, position: Self.entry(in: buffer, at: i.position).end)
        }
    }

    public subscript(position: Index) -> RecordHeader {
        switch storage {
        case .list(let list):
            return list[position.ordinal]
        case .encoded(let buffer, _, _):
            precondition(position.ordinal < count, "a header index past the end")
            let entry = Self.entry(in: buffer, at: position.position)
            // Names are UTF-8 text (a `String` when appended); one another Kafka client stored
            // that is not reads with replacement characters.
            let name = withExtendedLifetime(buffer) { String(decoding: buffer.bytes(entry.name), as: UTF8.self) }
            return RecordHeader(name: name, value: Self.value(of: entry, in: buffer))
        }
    }
}

extension RecordHeaders: Hashable {
    public static func == (lhs: RecordHeaders, rhs: RecordHeaders) -> Bool {
        lhs.count == rhs.count && lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for header in self { hasher.combine(header) }
    }
}

extension RecordHeaders: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    /// Headers from `["name": "value", …]`, in the literal's order (names may repeat).
    public init(dictionaryLiteral elements: (String, RecordBytes)...) {
        storage = .list(elements.map { RecordHeader(name: $0.0, value: $0.1) })
    }

    /// Headers from `[RecordHeader(…), …]`, in order.
    public init(arrayLiteral elements: RecordHeader...) {
        storage = .list(elements)
    }
}

extension RecordHeaders: CustomStringConvertible {
    public var description: String {
        "[" + map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
