/// A strict RFC 8259 parser over bytes: no trailing commas, no comments, UTF-8 only.
///
/// It is also the test the server uses to decide whether a stored value goes back as
/// `"value"` (valid JSON text) or `"value_b64"`: ``isValid(_:)-(UnsafeRawBufferPointer)``
/// checks in place, building nothing.
package struct JSONParser {
    /// Why a document was rejected, with the byte position.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var position: Int
        package var reason: String
        package var description: String { "\(reason) at byte \(position)" }

        package init(position: Int, reason: String) {
            self.position = position
            self.reason = reason
        }
    }

    /// Nesting deeper than this is rejected rather than risking the stack.
    package static let maximumDepth = 256

    private let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    package private(set) var index = 0

    /// A parser over `bytes`, which must stay valid while it is used.
    package init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses a whole document; surrounding whitespace is allowed, anything else after it is not.
    package static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure> = bytes.withUnsafeBytes { raw in
            do throws(Failure) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses a whole document in memory the caller owns.
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        try parser.expectEnd()
        return value
    }

    /// Whether the bytes are one complete JSON document.
    package static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }

    /// Whether the bytes are one complete JSON document, checked in place (nothing is built).
    package static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Fast reject: a JSON text starts (after whitespace) with one of `{["-0-9tfn`.
        guard let first = bytes.first(where: { !Self.isWhitespace($0) }) else { return false }
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            var parser = JSONParser(bytes)
            parser.skipWhitespace()
            do {
                _ = try parser.skipValue(depth: 0)
                try parser.expectEnd()
                return true
            } catch {
                return false
            }
        default:
            return false
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    package func failure(_ reason: String) -> Failure { Failure(position: index, reason: reason) }

    /// Whether every byte has been read.
    package var atEnd: Bool { index == bytes.count }

    /// The next byte, if any.
    package var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    package mutating func skipWhitespace() {
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    /// Consumes `byte` (after whitespace), or fails with `expected`.
    package mutating func expect(_ byte: UInt8, _ expected: String) throws(Failure) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw failure(expected) }
        index += 1
    }

    /// Consumes `byte` when it comes next (after whitespace).
    package mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Fails unless only whitespace is left.
    package mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected data after the JSON value") }
    }

    /// Parses the value at the current position into a tree.
    package mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nesting too deep") }
        guard index < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try skipNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        default: throw failure("unexpected character")
        }
    }

    /// Checks the value at the current position and moves past it, building nothing.
    ///
    /// - Returns: whether its text is already compact, exactly as ``JSONWriter`` writes the
    ///   value (no whitespace between tokens, and only the escapes it uses), so that a copy
    ///   of the text is its compact form.
    package mutating func skipValue(depth: Int) throws(Failure) -> Bool {
        guard depth < Self.maximumDepth else { throw failure("nesting too deep") }
        guard index < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var compact = !skipSpaceReporting()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return compact
            }
            while true {
                compact = !skipSpaceReporting() && compact
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
                compact = try skipString() && compact
                compact = !skipSpaceReporting() && compact
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                index += 1
                compact = !skipSpaceReporting() && compact
                compact = try skipValue(depth: depth + 1) && compact
                compact = !skipSpaceReporting() && compact
                guard index < bytes.count else { throw failure("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return compact }
                throw failure("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            index += 1
            var compact = !skipSpaceReporting()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return compact
            }
            while true {
                compact = !skipSpaceReporting() && compact
                compact = try skipValue(depth: depth + 1) && compact
                compact = !skipSpaceReporting() && compact
                guard index < bytes.count else { throw failure("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return compact }
                throw failure("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true"); return true
        case UInt8(ascii: "f"): try expectLiteral("false"); return true
        case UInt8(ascii: "n"): try expectLiteral("null"); return true
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try skipNumber(); return true
        default: throw failure("unexpected character")
        }
    }

    /// Skips whitespace; whether there was any.
    private mutating func skipSpaceReporting() -> Bool {
        let start = index
        skipWhitespace()
        return index != start
    }

    /// The bytes from `range` of the input, in place.
    package func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("unexpected end of input") }
        let matches = literal.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw failure("invalid literal") }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var members: [JSONMember] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let name = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            members.append(JSONMember(name: name, value: try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw failure("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            throw failure("expected ',' or ']'")
        }
    }

    /// Moves past a number, checking its grammar; its range in the input.
    private mutating func skipNumber() throws(Failure) -> Range<Int> {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw failure("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        } else {
            throw failure("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return start..<index
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A string's bytes: where they are in the input when it has no escapes (its text is its
    /// bytes), else decoded.
    package enum StringBytes {
        case inPlace(Range<Int>)
        case decoded([UInt8])
    }

    /// The string at the current position, as bytes; fails when the value is not a string.
    package mutating func stringBytes() throws(Failure) -> StringBytes {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a string") }
        let start = index
        _ = try skipString()
        let text = start + 1..<index - 1
        if !slice(text).contains(UInt8(ascii: "\\")) { return .inPlace(text) }
        index = start
        var utf8: [UInt8]? = []
        _ = try scanString(into: &utf8)
        return .decoded(utf8!)
    }

    /// Parses the string at the current position.
    package mutating func parseString() throws(Failure) -> String {
        var utf8: [UInt8]? = []
        _ = try scanString(into: &utf8)
        // Checked as UTF-8 while scanned; escapes only add whole scalars.
        return String(decoding: utf8!, as: UTF8.self)
    }

    /// Moves past the string at the current position, checking it; whether it is compact.
    private mutating func skipString() throws(Failure) -> Bool {
        var nothing: [UInt8]?
        return try scanString(into: &nothing)
    }

    /// Moves past the string at the current position (its opening quote), checking its
    /// escapes and UTF-8, and appends its decoded bytes to `utf8` when given.
    ///
    /// - Returns: whether it is written as ``JSONWriter`` writes strings (escapes only for `"`,
    ///   `\\` and control characters, `\u00xx` in lowercase), so its text is already compact.
    private mutating func scanString(into utf8: inout [UInt8]?) throws(Failure) -> Bool {
        index += 1  // opening quote
        var canonical = true
        while true {
            guard index < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return canonical
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): utf8?.append(0x22)
                case UInt8(ascii: "\\"): utf8?.append(0x5C)
                case UInt8(ascii: "/"): utf8?.append(0x2F); canonical = false
                case UInt8(ascii: "b"): utf8?.append(0x08)
                case UInt8(ascii: "f"): utf8?.append(0x0C)
                case UInt8(ascii: "n"): utf8?.append(0x0A)
                case UInt8(ascii: "r"): utf8?.append(0x0D)
                case UInt8(ascii: "t"): utf8?.append(0x09)
                case UInt8(ascii: "u"):
                    let digits = index
                    var scalar = try parseHex4()
                    // JSONWriter writes `\u00xx` (lowercase) only for controls without a short escape.
                    let shortEscaped: Set<UInt32> = [0x08, 0x09, 0x0A, 0x0C, 0x0D]
                    if scalar >= 0x20 || shortEscaped.contains(scalar)
                        || slice(digits..<digits + 4).contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }) {
                        canonical = false
                    }
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw failure("unpaired surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid escape") }
                    if utf8 != nil { utf8!.append(contentsOf: UTF8.encode(unicode)!) }
                default:
                    throw failure("invalid escape")
                }
            case 0..<0x20:
                throw failure("control character in string")
            case 0..<0x80:
                utf8?.append(byte)
                index += 1
            default:
                guard let length = UTF8Validation.sequenceLength(in: bytes, at: index) else { throw failure("invalid UTF-8 in string") }
                utf8?.append(contentsOf: slice(index..<index + length))
                index += length
            }
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
