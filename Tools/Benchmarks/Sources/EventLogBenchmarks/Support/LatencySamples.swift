/// Latency samples in nanoseconds, summarised by sorting (no histogram needed at these counts).
struct LatencySamples {
    private(set) var nanoseconds: [UInt64] = []
    private var sorted = true

    init(capacity: Int) { nanoseconds.reserveCapacity(capacity) }

    mutating func record(_ ns: UInt64) {
        nanoseconds.append(ns)
        sorted = false
    }

    var count: Int { nanoseconds.count }

    /// The value at quantile `q` (0...1) in microseconds, nearest-rank.
    mutating func microseconds(atQuantile q: Double) -> Double {
        guard !nanoseconds.isEmpty else { return .nan }
        if !sorted {
            nanoseconds.sort()
            sorted = true
        }
        let rank = min(nanoseconds.count - 1, max(0, Int((q * Double(nanoseconds.count)).rounded(.up)) - 1))
        return Double(nanoseconds[rank]) / 1000
    }

    mutating func median() -> Double { microseconds(atQuantile: 0.5) }
    mutating func p99() -> Double { microseconds(atQuantile: 0.99) }
}
