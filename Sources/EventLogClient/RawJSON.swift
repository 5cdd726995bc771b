/// A JSON document parsed just enough to walk it, each value keeping its exact bytes.
///
/// A record's `value` in `logd`'s answers is the stored JSON text spliced in as it is; this
/// parser hands those bytes back unchanged (no re-encoding, no reordering of keys, `12.50`
/// stays `12.50`), which Foundation's `JSONSerialization` cannot.
struct RawJSON: Sendable {
    enum Kind: Sendable {
        case object([(name: String, value: RawJSON)])
        case array([RawJSON])
        case string(String)
        case number
        case bool(Bool)
        case null
    }

    var kind: Kind
    /// The value's bytes in the document, exactly.
    var raw: ArraySlice<UInt8>

    subscript(member name: String) -> RawJSON? {
        guard case .object(let members) = kind else { return nil }
        return members.first { $0.name == name }?.value
    }

    var string: String? {
        if case .string(let s) = kind { return s }
        return nil
    }

    var array: [RawJSON]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    var int64: Int64? {
        guard case .number = kind else { return nil }
        return Int64(String(decoding: raw, as: UTF8.self))
    }

    var isNull: Bool {
        if case .null = kind { return true }
        return false
    }

    /// Parses `bytes`; `nil` when they are not one JSON value.
    static func parse(_ bytes: [UInt8]) -> RawJSON? {
        var parser = Parser(bytes: bytes)
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.index == bytes.count ? value : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) -> RawJSON? {
            guard depth < 128 else { return nil }
            skipSpace()
            guard index < bytes.count else { return nil }
            let start = index
            let kind: Kind
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(name: String, value: RawJSON)] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                } else {
                    while true {
                        skipSpace()
                        guard let name = string() else { return nil }
                        skipSpace()
                        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                        index += 1
                        guard let member = value(depth: depth + 1) else { return nil }
                        members.append((name, member))
                        skipSpace()
                        guard index < bytes.count else { return nil }
                        if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                        guard bytes[index] == UInt8(ascii: "}") else { return nil }
                        index += 1
                        break
                    }
                }
                kind = .object(members)
            case UInt8(ascii: "["):
                index += 1
                var elements: [RawJSON] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                } else {
                    while true {
                        guard let element = value(depth: depth + 1) else { return nil }
                        elements.append(element)
                        skipSpace()
                        guard index < bytes.count else { return nil }
                        if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                        guard bytes[index] == UInt8(ascii: "]") else { return nil }
                        index += 1
                        break
                    }
                }
                kind = .array(elements)
            case UInt8(ascii: "\""):
                guard let s = string() else { return nil }
                kind = .string(s)
            case UInt8(ascii: "t"): guard literal("true") else { return nil }; kind = .bool(true)
            case UInt8(ascii: "f"): guard literal("false") else { return nil }; kind = .bool(false)
            case UInt8(ascii: "n"): guard literal("null") else { return nil }; kind = .null
            default:
                while index < bytes.count, "+-.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
                guard index > start else { return nil }
                kind = .number
            }
            return RawJSON(kind: kind, raw: bytes[start..<index])
        }

        mutating func literal(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else { return false }
            index += w.count
            return true
        }

        /// A string at `index` (its quotes included), unescaped.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A surrogate pair: \uD83D\uDE00.
                            guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default: out.append(escaped)  // \" \\ \/
                    }
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else { return nil }
            index += 4
            return v
        }
    }
}

/// JSON text for a string: quoted and escaped.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
