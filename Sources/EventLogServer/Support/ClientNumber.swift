import EventLogJSON
import EventLog

/// The one parser of the numbers a client sends: query parameters, headers, cursors, JSON members.
///
/// A number is strict decimal: ASCII digits without a sign, spaces, leading zeros, fraction or
/// exponent (a leading `-` only where the range allows negative values), and it must lie in the
/// range the caller asks for. Anything else is `nil`, which the caller answers with its own
/// `400` code. So no client value can overflow the arithmetic that follows (a cursor's `+ 1`,
/// a deadline's sum), wrap, or make the server wait or allocate without bound.
enum ClientNumber {
    /// Parses `text` as a decimal integer within `range` (the library's `DecimalInteger`).
    static func parse(_ text: some StringProtocol, in range: ClosedRange<Int64>) -> Int64? {
        DecimalInteger.parse(text, in: range)
    }

    /// Parses `text` as a decimal integer within `range`.
    static func parse(_ text: some StringProtocol, in range: ClosedRange<Int>) -> Int? {
        parse(text, in: Int64(range.lowerBound)...Int64(range.upperBound)).map { Int($0) }
    }

    /// Whether `text` is a run of ASCII digits (HTTP's `1*DIGIT`: leading zeros allowed) whose
    /// value exceeds `limit`, however many digits it has: a `Content-Length` the HTTP decoder
    /// accepted (it takes up to 2^64 - 1) that is too large for any body this server reads.
    static func decimal(_ text: some StringProtocol, exceeds limit: Int) -> Bool {
        var value = 0
        var digits = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            digits += 1
            guard value <= limit else { continue }  // already over: the rest only has to be digits
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            value = overflow1 || overflow2 ? .max : next
            if overflow1 || overflow2 { return true }
        }
        return digits > 0 && value > limit
    }

    /// A JSON value as an integer within `range`: a number literal of the same strict form
    /// (JSON's grammar already forbids `+`, spaces and leading zeros; a fraction or exponent,
    /// even `1.0`, is refused).
    static func parse(_ value: JSONValue, in range: ClosedRange<Int64>) -> Int64? {
        guard case .number(let literal) = value else { return nil }
        return parse(literal, in: range)
    }
}

extension ClientNumber {
    /// Milliseconds since the epoch that a record's `timestamp` may carry: up to the end of
    /// the year 9999, the range ISO 8601 and every client library's date type share.
    static let timestamps: ClosedRange<Int64> = 0...253_402_300_799_999
    /// Partition numbers a request may name (a topic has at most 10,000; larger numbers are
    /// `404 partition_not_found` up to this bound, `400` beyond it).
    static let partitions: ClosedRange<Int64> = 0...Int64(Int32.max)
    /// Offsets a request may name: non-negative 64-bit integers.
    static let offsets: ClosedRange<Int64> = 0...Int64.max
}
