/// Everything one run found, as the text and JSON outputs print it.
///
/// A PATH below a data directory still gives the same shape: a partition directory is a
/// topic with one partition, a `.log` file a partition with one segment.
struct DumpReport: Sendable {
    struct Partition: Sendable {
        var directory: String
        /// The partition number from the directory name, when it is one.
        var number: Int?
        var segments: [SegmentReport] = []
        var totals = Totals()
    }

    struct Topic: Sendable {
        /// The topic name, when PATH is (or is inside) a topic directory.
        var name: String?
        var directory: String?
        /// Whether topic.conf says the topic is compacted (gaps in offsets are expected then).
        var compacted = false
        var partitions: [Partition] = []
        var totals = Totals()
    }

    var path: String
    var kind: PathKind
    var settings: DumpSettings
    /// Whether `.clean-shutdown` is present (data directories only).
    var cleanShutdown: Bool?
    var topics: [Topic] = []
    /// For an index PATH: the index's facts.
    var indexes: [IndexReport] = []
    var totals = Totals()
    var findings: [Finding] = []
    /// Records printed (with --records).
    var recordsPrinted: Int64 = 0

    var problemCount: Int { findings.count { $0.severity == .problem } }
}
