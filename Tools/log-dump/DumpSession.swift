/// The state one run shares between its inspectors: settings, where output goes, the
/// findings so far, the progress bar and how many more records may be printed.
final class DumpSession {
    let settings: DumpSettings
    let reporter: any Reporter
    let progress: ProgressBar?
    private(set) var findings: [Finding] = []
    /// Records still to print (`--count`), or `nil` for no limit.
    private(set) var recordsLeft: Int64?
    private(set) var recordsPrinted: Int64 = 0

    init(settings: DumpSettings, reporter: any Reporter, progress: ProgressBar?) {
        self.settings = settings
        self.reporter = reporter
        self.progress = progress
        self.recordsLeft = settings.count.map(Int64.init)
    }

    /// Records a finding and prints it.
    func report(_ finding: Finding) {
        findings.append(finding)
        reporter.finding(finding)
    }

    /// Whether `--count` records have been printed already.
    var isRecordBudgetSpent: Bool { recordsLeft.map { $0 <= 0 } ?? false }

    /// Counts one printed record.
    func notePrintedRecord() {
        recordsPrinted += 1
        if let left = recordsLeft { recordsLeft = left - 1 }
    }
}
