import Logging

extension Partition {
    /// Makes a new, empty partition in `directory`, which the caller just made
    /// (``FileSystem/makeDirectory(_:faults:)``), or, when it was there already
    /// (`inNewDirectory` false), opens what is in it
    /// (``open(topicName:index:directory:configuration:executor:logger:faults:clock:cleanShutdown:)``:
    /// what an interrupted creation or growth left).
    ///
    /// Syncs nothing: the new directory's entry in its parent and the entries of its files
    /// (an empty segment and the first recovery checkpoint) are durable once the caller has
    /// synced `directory` and then its parent, which it does for all the partitions it makes
    /// at once (``LogStore/makePartitions(_:of:directory:configuration:)``) before its commit
    /// point. The files are empty, so no data sync is needed; the first checkpoint's bytes are
    /// not synced either: a power cut that loses them leaves an empty or torn file, which
    /// ``RecoveryCheckpoint/decode(_:)`` rejects, and recovery then scans the empty segment,
    /// which gives the same state.
    static func create(topicName: String, index: Int, directory: String, configuration: LiveConfiguration,
                       executor: IOExecutor, logger: Logger, faults: FaultInjector?, clock: Clock,
                       inNewDirectory: Bool) throws(LogError) -> Partition {
        guard inNewDirectory else {
            return try open(topicName: topicName, index: index, directory: directory, configuration: configuration,
                            executor: executor, logger: logger, faults: faults, clock: clock, cleanShutdown: false)
        }
        let segment = try Segment.create(directory: directory, baseOffset: 0, faults: faults, inNewDirectory: true)
        let durable = RecoveryCheckpoint(segmentBase: 0, position: 0, nextOffset: 0, producers: .init())
        let file = try FileHandle.open(directory + "/" + RecoveryCheckpoint.fileName, create: true, faults: faults)
        try file.write(durable.encoded(), at: 0)
        var state = State(segments: [segment], startOffset: 0, nextOffset: 0, writtenPosition: 0, visibleEnd: 0, durable: durable)
        state.lastCheckpoint = durable
        return Partition(topicName: topicName, index: index, directory: directory, configuration: configuration,
                         executor: executor, logger: logger, faults: faults, clock: clock, state: state)
    }
}
