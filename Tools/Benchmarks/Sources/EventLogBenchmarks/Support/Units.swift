/// Number formatting for the report: fixed precision, SI-style prefixes, no Foundation.
enum Units {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int = 2) -> String {
        guard value.isFinite else { return "n/a" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let whole = Int64(rounded / scale)
        let frac = Int64(rounded - Double(whole) * scale)
        var s = (value < 0 && rounded > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
        }
        return s
    }

    /// Records (or operations) per second, as `4.21 M rec/s`.
    static func rate(_ perSecond: Double, unit: String = "rec/s") -> String {
        if perSecond >= 1e6 { return fixed(perSecond / 1e6) + " M " + unit }
        if perSecond >= 1e4 { return fixed(perSecond / 1e3, 1) + " k " + unit }
        return fixed(perSecond, 0) + " " + unit
    }

    /// Bytes per second in MB/s (10^6).
    static func megabytesPerSecond(_ bytesPerSecond: Double) -> String {
        fixed(bytesPerSecond / 1e6, 0) + " MB/s"
    }

    /// A byte count as MiB or GiB.
    static func bytes(_ n: Int64) -> String {
        if n >= 1 << 30 { return fixed(Double(n) / Double(1 << 30)) + " GiB" }
        return fixed(Double(n) / Double(1 << 20), 1) + " MiB"
    }

    /// Microseconds.
    static func micros(_ us: Double) -> String { fixed(us, us < 10 ? 2 : 1) + " µs" }

    /// Milliseconds.
    static func millis(_ ms: Double) -> String { fixed(ms, ms < 10 ? 2 : 1) + " ms" }

    /// A ratio such as `5.31×`.
    static func ratio(_ r: Double) -> String { fixed(r, r < 10 ? 2 : 1) + "×" }

    /// A percentage of a fraction.
    static func percent(_ f: Double) -> String { fixed(f * 100, 0) + "%" }
}
