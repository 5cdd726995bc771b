/// Strict UTF-8 checks (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF)
/// in place, allocating nothing: whether record bytes can be sent as text.
package enum UTF8Validation {
    /// Whether all of `bytes` is UTF-8.
    package static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 {
                i += 1
            } else {
                guard let length = sequenceLength(in: bytes, at: i) else { return false }
                i += length
            }
        }
        return true
    }

    /// The length of the well-formed multi-byte sequence starting at `i` (its first byte is
    /// 0x80 or more), or `nil` when it is not one.
    package static func sequenceLength(in bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the allowed range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard i + length <= bytes.count, (low...high).contains(bytes[i + 1]) else { return nil }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return nil }
        return length
    }
}
