import EventLogJSON

/// Appends compact JSON to a byte array; the server's only JSON encoder (no `JSONEncoder`).
///
/// Objects are written with ``beginObject()``/``key(_:)``/``endObject()`` and commas are
/// inserted automatically, so building an answer reads like its shape.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// One flag per open container: whether the next element needs a leading comma.
    private var needsComma: [Bool] = []
    /// A member name was just written: the next value is its value, with no comma.
    private var afterKey = false

    init(reservingCapacity capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    private mutating func beginValue() {
        if afterKey {
            afterKey = false
        } else if let last = needsComma.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            needsComma[needsComma.count - 1] = true
        }
    }

    mutating func beginObject() { beginValue(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    mutating func beginArray() { beginValue(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// Writes `{"<key>": [...]}`, the answer shape of most list routes; `elements` writes the
    /// array's values.
    mutating func objectWithArray(_ key: String, _ elements: (inout JSONWriter) throws -> Void) rethrows {
        beginObject()
        self.key(key)
        beginArray()
        try elements(&self)
        endArray()
        endObject()
    }

    /// Writes a member name; the next value written is its value.
    mutating func key(_ name: String) {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ value: String) { beginValue(); appendQuoted(value) }
    mutating func int(_ value: Int64) { beginValue(); bytes.appendDecimal(value) }
    mutating func int(_ value: Int) { int(Int64(value)) }
    mutating func bool(_ value: Bool) { beginValue(); bytes.append(contentsOf: Array((value ? "true" : "false").utf8)) }
    mutating func null() { beginValue(); bytes.append(contentsOf: Array("null".utf8)) }
    /// Writes bytes already known to be one valid JSON value.
    mutating func raw(_ json: some Collection<UInt8>) { beginValue(); bytes.append(contentsOf: json) }

    /// Writes bytes as a base64 string (RFC 4648, padded), straight from where they are.
    mutating func base64(_ raw: UnsafeRawBufferPointer) {
        beginValue()
        bytes.append(UInt8(ascii: "\""))
        Base64.encode(raw, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes any parsed value, compactly.
    mutating func append(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let text): beginValue(); bytes.append(contentsOf: Array(text.utf8))
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { append(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.name)
                append(member.value)
            }
            endObject()
        }
    }

    /// Writes UTF-8 bytes (checked by the caller) as a string, from where they are.
    mutating func utf8String(_ raw: UnsafeRawBufferPointer) {
        beginValue()
        appendQuoted(raw)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ string: String) {
        var string = string
        string.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0)) }
    }

    private mutating func appendQuoted(_ utf8: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(byte)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
