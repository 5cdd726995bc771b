/// The rows of the final report: each figure with the baseline measured in the same run.
struct ResultTable {
    /// Whether a row's target was met.
    enum Verdict: CustomStringConvertible {
        case met
        case missed
        /// No target: the figure is reported for information.
        case info
        /// The figure could not be measured; the text says why.
        case notMeasured

        var description: String {
            switch self {
            case .met: "yes"
            case .missed: "NO"
            case .info: "—"
            case .notMeasured: "n/m"
            }
        }
    }

    /// One line of the report.
    struct Row {
        var scenario: String
        var measurement: String
        var figure: String
        var baseline: String
        var ratio: String
        var target: String
        var verdict: Verdict
    }

    private(set) var rows: [Row] = []

    mutating func add(_ scenario: ScenarioName, _ measurement: String, figure: String, baseline: String = "—",
                      ratio: Double? = nil, target: String = "—", verdict: Verdict = .info) {
        let row = Row(scenario: scenario.rawValue, measurement: measurement, figure: figure, baseline: baseline,
                      ratio: ratio.map(Units.ratio) ?? "—", target: target, verdict: verdict)
        rows.append(row)
        print("  => \(row.measurement): \(row.figure) | baseline \(row.baseline) | ratio \(row.ratio) | target \(row.target) | met: \(row.verdict)")
    }

    static let headers = ["Scenario", "Measurement", "Figure", "Baseline (same run)", "Ratio", "Target", "Met?"]

    private func cells(_ r: Row) -> [String] {
        [r.scenario, r.measurement, r.figure, r.baseline, r.ratio, r.target, r.verdict.description]
    }

    /// The table with aligned columns, for the terminal.
    func plainText() -> String {
        var widths = Self.headers.map { $0.count }
        for r in rows {
            for (i, c) in cells(r).enumerated() { widths[i] = max(widths[i], c.count) }
        }
        func line(_ cs: [String]) -> String {
            zip(cs, widths).map { c, w in c + String(repeating: " ", count: w - c.count) }.joined(separator: "  ")
        }
        var out = [line(Self.headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map { line(cells($0)) }
        return out.joined(separator: "\n")
    }

    /// The table as Markdown, ready for Docs/BENCHMARKS.md.
    func markdown() -> String {
        func line(_ cs: [String]) -> String { "| " + cs.map { $0.replacingPipes() }.joined(separator: " | ") + " |" }
        var out = [line(Self.headers), "|" + String(repeating: " --- |", count: Self.headers.count)]
        out += rows.map { line(cells($0)) }
        return out.joined(separator: "\n")
    }

    /// How many rows met, missed, or could not be measured.
    var summary: String {
        let met = rows.filter { if case .met = $0.verdict { true } else { false } }.count
        let missed = rows.filter { if case .missed = $0.verdict { true } else { false } }.count
        let unmeasured = rows.filter { if case .notMeasured = $0.verdict { true } else { false } }.count
        return "targets met: \(met), missed: \(missed), not measured: \(unmeasured), informational rows: \(rows.count - met - missed - unmeasured)"
    }
}

private extension String {
    func replacingPipes() -> String { split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }
}
