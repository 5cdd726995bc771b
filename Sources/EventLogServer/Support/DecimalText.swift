import NIOCore

/// An integer's decimal text (ASCII digits, `-` before a negative one), made on the stack:
/// for answers written on the hot paths, where `String(value)` costs an allocation per number.
enum DecimalText {
    /// Calls `body` with the decimal text of `value`.
    @inline(__always)
    static func withDigits<R>(of value: Int64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value.magnitude
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
                rest /= 10
            } while rest > 0
            if value < 0 {
                start -= 1
                digits[start] = UInt8(ascii: "-")
            }
            return try body(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: digits[start...])))
        }
    }
}

extension ByteBuffer {
    /// Writes the decimal text of `value`; returns the number of bytes written.
    @discardableResult
    mutating func writeDecimal(_ value: Int64) -> Int {
        DecimalText.withDigits(of: value) { writeBytes($0) }
    }
}

extension Array where Element == UInt8 {
    /// Appends the decimal text of `value`.
    mutating func appendDecimal(_ value: Int64) {
        DecimalText.withDigits(of: value) { append(contentsOf: $0) }
    }
}
