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
public struct RecordHeaders: Sendable {
    private var list: [RecordHeader]

    /// No headers.
    public init() {
        list = []
    }

    /// Headers in the order given.
    public init(_ headers: some Sequence<RecordHeader>) {
        list = Array(headers)
    }

    /// The value of the first header named `name`, if any.
    public subscript(name: String) -> RecordBytes? {
        first { $0.name == name }?.value
    }

    /// Adds a header at the end.
    public mutating func append(_ header: RecordHeader) {
        list.append(header)
    }

    /// Adds a header at the end.
    public mutating func append(name: String, value: some RecordBytesConvertible) {
        list.append(RecordHeader(name: name, value: value))
    }
}

extension RecordHeaders: Collection {
    /// A position in the headers.
    public struct Index: Comparable, Sendable {
        /// Which header: 0 for the first.
        let ordinal: Int

        public static func < (lhs: Index, rhs: Index) -> Bool { lhs.ordinal < rhs.ordinal }
    }

    public var startIndex: Index { Index(ordinal: 0) }
    public var endIndex: Index { Index(ordinal: list.count) }
    public var count: Int { list.count }
    public var isEmpty: Bool { list.isEmpty }

    public func index(after i: Index) -> Index {
        Index(ordinal: i.ordinal + 1)
    }

    public subscript(position: Index) -> RecordHeader {
        list[position.ordinal]
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
        list = elements.map { RecordHeader(name: $0.0, value: $0.1) }
    }

    /// Headers from `[RecordHeader(…), …]`, in order.
    public init(arrayLiteral elements: RecordHeader...) {
        list = elements
    }
}

extension RecordHeaders: CustomStringConvertible {
    public var description: String {
        "[" + map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
