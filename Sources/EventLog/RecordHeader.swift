/// A header of a record: a name and bytes (Kafka's record header).
public struct RecordHeader: Hashable, Sendable {
    /// The header's name.
    public var name: String
    /// The header's value.
    public var value: [UInt8]

    /// Makes a header.
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// Makes a header whose value is the UTF-8 bytes of a string.
    public init(name: String, value: String) {
        self.name = name
        self.value = Array(value.utf8)
    }
}
