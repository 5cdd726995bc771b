extension Duration {
    /// The span in whole milliseconds, rounded toward zero; `Int64.max` (or `.min`) when it
    /// does not fit. The library's configuration keeps time spans to the millisecond.
    package var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let (sum, overflow2) = ms.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflow || overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}
