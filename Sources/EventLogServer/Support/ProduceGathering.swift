import EventLog
import NIOCore
import NIOPosix

/// The plain produces one event loop reads in one pass over its sockets, appended together:
/// one `pwritev(2)` per partition for the pass instead of one per request
/// (Docs/adr/0012-produces-gathered-per-loop-pass.md).
///
/// SwiftNIO runs the tasks submitted while it handles a pass's reads after the last of those
/// reads. The first produce a pass gathers submits one such task; by the time it runs, every
/// request that pass read has added its batch, and the task appends each partition's batches
/// with ``EventLog/Partition/appendNow(encoded:)-([EncodedBatch])`` and hands every request its result, in
/// the order they came. A request's answer is thus written a little later in the same pass,
/// with no task and no thread hop; one whose append waits (a topic that syncs) is answered
/// when its group commit is done, still with no task.
///
/// One per event-loop thread (``current``), used only on that thread.
final class ProduceGathering {
    /// A request's result: its offsets or its error.
    typealias Completion = (_ result: Result<OffsetRange, any Error>) -> Void

    private struct Entry {
        var batch: EncodedBatch
        var completion: Completion
    }

    /// The partitions written to in this pass, in the order of their first request; their
    /// requests in `entries` at the same index.
    private var partitions: [Partition] = []
    private var entries: [[Entry]] = []
    /// The loop whose produces this gathers.
    let eventLoop: any EventLoop
    private var scheduled = false

    /// The most requests of one group: a pass's further requests for the same partition start
    /// a second group, appended right after the first (a bound on the arrays one append takes;
    /// the writer splits what exceeds one `pwritev(2)` itself).
    static let maxPerPartition = 256

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    private static let perThread = ThreadSpecificVariable<NIOLoopBoundBox<ProduceGathering>>()

    /// The gathering of the event loop that runs on the calling thread, bound to that loop;
    /// `nil` off an event loop of SwiftNIO's `MultiThreadedEventLoopGroup` (an embedded loop
    /// in tests: produces are then appended one by one).
    static var current: NIOLoopBoundBox<ProduceGathering>? {
        if let box = perThread.currentValue { return box }
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        let box = NIOLoopBoundBox(ProduceGathering(eventLoop: loop), eventLoop: loop)
        perThread.currentValue = box
        return box
    }

    /// Adds `batch` for `partition` to this pass; `completion` is called on this loop, once,
    /// after the pass's reads.
    func append(_ batch: EncodedBatch, to partition: Partition, completion: @escaping Completion) {
        let entry = Entry(batch: batch, completion: completion)
        if let index = partitions.lastIndex(where: { $0 === partition }), entries[index].count < Self.maxPerPartition {
            entries[index].append(entry)
        } else {
            partitions.append(partition)
            entries.append([entry])
        }
        guard !scheduled else { return }
        scheduled = true
        let gathering = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { gathering.value.appendGathered() }
    }

    /// Appends what the pass gathered and completes its requests. A completion may gather
    /// again (a connection serving its next request): that goes to the next task.
    ///
    /// A partition whose appends would wait (a topic that syncs, a writer busy on another
    /// thread, a roll due) gets its batches queued for its writer together, and its requests
    /// are completed on this loop once the writer has decided them all (under `fsync`, after
    /// the group commit's `fdatasync(2)`): no task waits.
    private func appendGathered() {
        scheduled = false
        let partitions = self.partitions
        let entries = self.entries
        self.partitions = []
        self.entries = []
        for (partition, group) in zip(partitions, entries) {
            let batches = group.map(\.batch)
            let results: [Result<OffsetRange, any Error>]
            do {
                guard let written = try partition.appendNow(encoded: batches) else {
                    let waiting = NIOLoopBound(group, eventLoop: eventLoop)
                    let eventLoop = self.eventLoop
                    partition.append(encoded: batches) { results in
                        eventLoop.execute { Self.complete(waiting.value, with: results) }
                    }
                    continue
                }
                results = written
            } catch {
                results = Array(repeating: .failure(error), count: group.count)
            }
            Self.complete(group, with: results)
        }
    }

    private static func complete(_ group: [Entry], with results: [Result<OffsetRange, any Error>]) {
        for (entry, result) in zip(group, results) { entry.completion(result) }
    }
}
