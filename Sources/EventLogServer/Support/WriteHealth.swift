import EventLog
import Logging
import Synchronization

/// Whether appends succeed, as far as the disk goes: `/healthz` answers
/// `503 not_accepting_writes` while the last append to some partition failed for a disk
/// reason, and `200` again by itself once appends succeed.
///
/// A full disk (``EventLog/LogError/Code/diskFull``) is the volume's condition: any append that
/// succeeds afterwards shows there is room again and clears every full-disk failure. A failing
/// write or sync (``EventLog/LogError/Code/ioError``) is the partition's: it clears when that
/// partition's next append succeeds, or when its topic is deleted. A partition made read-only
/// by a failed sync (``EventLog/LogError/Code/readOnly``) refuses every append until the
/// store is reopened, so its failure stays until `logd` restarts or its topic is deleted. At most
/// ``maxTrackedPartitions`` failures are kept (the oldest stay: they are the ones to report).
///
/// A successful append costs one relaxed atomic load while nothing is failing.
final class WriteHealth: Sendable {
    /// Why appends fail.
    enum Reason: String, Sendable {
        case diskFull = "disk_full"
        case ioError = "io_error"
        /// A sync of the partition's files failed: it refuses writes until `logd` restarts.
        case readOnly = "read_only"
    }

    /// An append failure that has not cleared yet.
    struct Failure: Sendable {
        var reason: Reason
        var topic: String
        var partition: Int
        /// When the partition's appends began to fail, in milliseconds since the epoch.
        var sinceMilliseconds: Int64
    }

    private struct Key: Hashable {
        var topic: String
        var partition: Int
    }

    static let maxTrackedPartitions = 1024

    private let failures = Mutex<[Key: Failure]>([:])
    private let failing = Atomic<Bool>(false)
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Runs one partition's append, noting a disk-class failure or a success.
    func track<Value>(topic: String, partition: Int, _ append: () async throws -> Value) async throws -> Value {
        let result: Value
        do {
            result = try await append()
        } catch {
            noteFailure(error, topic: topic, partition: partition)
            throw error
        }
        if failing.load(ordering: .relaxed) { succeeded(topic: topic, partition: partition) }
        return result
    }

    /// Runs one partition's append that writes at once or not at all (`Partition.appendNow`),
    /// as ``track(topic:partition:_:)`` does; `nil` (nothing appended) is not a success.
    func trackNow(topic: String, partition: Int, _ append: () throws -> OffsetRange?) throws -> OffsetRange? {
        let result: OffsetRange?
        do {
            result = try append()
        } catch {
            noteFailure(error, topic: topic, partition: partition)
            throw error
        }
        if result != nil, failing.load(ordering: .relaxed) { succeeded(topic: topic, partition: partition) }
        return result
    }

    /// Notes the result of an append made without this type's help (the produces of one
    /// event-loop pass, appended together), as ``track(topic:partition:_:)`` would.
    func note(_ result: Result<OffsetRange, any Error>, topic: String, partition: Int) {
        switch result {
        case .success:
            if failing.load(ordering: .relaxed) { succeeded(topic: topic, partition: partition) }
        case .failure(let error):
            noteFailure(error, topic: topic, partition: partition)
        }
    }

    private func noteFailure(_ error: any Error, topic: String, partition: Int) {
        guard let error = error as? LogError else { return }
        switch error.code {
        case .diskFull: failed(.diskFull, topic: topic, partition: partition, error: error)
        case .ioError: failed(.ioError, topic: topic, partition: partition, error: error)
        case .readOnly: failed(.readOnly, topic: topic, partition: partition, error: error)
        default: break
        }
    }

    /// The oldest failure that has not cleared, or `nil` while appends succeed.
    var currentFailure: Failure? {
        guard failing.load(ordering: .relaxed) else { return nil }
        return failures.withLock { $0.values.min { $0.sinceMilliseconds < $1.sinceMilliseconds } }
    }

    /// Forgets the failures of a deleted topic.
    func forget(topic: String) {
        guard failing.load(ordering: .relaxed) else { return }
        update { failures in failures = failures.filter { $0.key.topic != topic } }
    }

    private func failed(_ reason: Reason, topic: String, partition: Int, error: LogError) {
        let key = Key(topic: topic, partition: partition)
        let now = currentTimeMilliseconds()
        let wasFailing = update { failures in
            if var known = failures[key] {
                if known.reason != reason { known.reason = reason }
                failures[key] = known
            } else if failures.count < Self.maxTrackedPartitions {
                failures[key] = Failure(reason: reason, topic: topic, partition: partition, sinceMilliseconds: now)
            }
        }
        if !wasFailing {
            logger.error("Appends fail: not accepting writes until they succeed again",
                         metadata: ["reason": "\(reason.rawValue)", "topic": "\(topic)", "partition": "\(partition)", "error": "\(error)"])
        }
    }

    private func succeeded(topic: String, partition: Int) {
        let key = Key(topic: topic, partition: partition)
        let wasFailing = update { failures in
            failures[key] = nil
            failures = failures.filter { $0.value.reason != .diskFull }  // there is room again
        }
        if wasFailing, !failing.load(ordering: .relaxed) {
            logger.notice("Appends succeed again: accepting writes")
        }
    }

    /// Changes the failures; returns whether any was there before.
    @discardableResult
    private func update(_ change: (inout [Key: Failure]) -> Void) -> Bool {
        failures.withLock { failures in
            let before = !failures.isEmpty
            change(&failures)
            failing.store(!failures.isEmpty, ordering: .relaxed)
            return before
        }
    }
}
