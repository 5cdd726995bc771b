/// The one parser of decimal integers that come from outside: cursors (``TopicPosition``), and
/// every number a client of the server sends (its `ClientNumber` calls this).
///
/// Strict decimal: ASCII digits without a sign, spaces, leading zeros, fraction or exponent (a
/// leading `-` only where the range allows negative values), within the range the caller asks
/// for. Anything else is `nil`, so no outside value can overflow the arithmetic that follows.
package enum DecimalInteger {
    /// The most digits a 64-bit integer has; longer text is refused before any conversion.
    package static let maxDigits = 19

    /// Parses `text` as a decimal integer within `range`; `nil` when it is not one.
    package static func parse(_ text: some StringProtocol, in range: ClosedRange<Int64>) -> Int64? {
        let utf8 = text.utf8
        var digits = utf8[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") {
            guard range.lowerBound < 0 else { return nil }
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= maxDigits else { return nil }
        guard digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
        if negative && digits.first == UInt8(ascii: "0") { return nil }  // "-0"
        // Accumulate negatively: Int64.min has no positive counterpart.
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        if !negative {
            guard value != .min else { return nil }
            value = -value
        }
        return range.contains(value) ? value : nil
    }
}
