import EventLog

/// Where a run's output goes as it is found: text for people, JSON for scripts.
///
/// Calls come in file order: a topic, its partitions, their segments (records and batches
/// inside them with `--records`), findings as they are met, and once at the end ``finish(_:)``.
protocol Reporter: AnyObject {
    func beginTopic(_ topic: DataLayout.Topic)
    func beginPartition(_ partition: DataLayout.Partition, of topic: DataLayout.Topic)
    /// With `--records`: a batch about to be printed record by record.
    func batch(_ header: RecordBatchHeader, file: String, position: Int64)
    /// With `--records`: one record.
    func record(_ record: borrowing RecordView, file: String, batchPosition: Int64)
    func finding(_ finding: Finding)
    /// A segment's summary (not with `--from-offset`/`--count`).
    func segment(_ segment: SegmentReport)
    func endPartition(_ partition: DumpReport.Partition)
    func endTopic(_ topic: DumpReport.Topic)
    /// An index file given as PATH.
    func index(_ index: IndexReport)
    func finish(_ report: DumpReport)
}
