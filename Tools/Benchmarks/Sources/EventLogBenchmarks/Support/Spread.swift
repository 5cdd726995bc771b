/// Repeated measurements of one figure: the median is reported, the range shows the noise.
struct Spread {
    private(set) var values: [Double]

    init(_ values: [Double]) {
        precondition(!values.isEmpty, "a spread needs at least one measurement")
        self.values = values.sorted()
    }

    var median: Double {
        let n = values.count
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
    }
    var min: Double { values.first! }
    var max: Double { values.last! }
    var count: Int { values.count }

    /// ` (n runs, min–max)` with `format` applied, or nothing for a single run.
    func range(_ format: (Double) -> String) -> String {
        count > 1 ? " [\(count) runs: \(format(min))–\(format(max))]" : ""
    }
}
