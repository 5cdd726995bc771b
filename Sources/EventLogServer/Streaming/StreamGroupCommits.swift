import EventLog
import Logging
import Synchronization

/// Commits an event stream's delivered cursor for a consumer group (`?group=G`): at most once
/// a second while records flow, and once more when the stream ends (the client went away or
/// the server stops), so another device can pick up where this one stopped.
///
/// Commits are outside the group's membership (no member id), like Kafka's standalone
/// consumers. A failed commit is logged and retried with the next one; it never ends the stream.
final class StreamGroupCommits: Sendable {
    let coordinator: GroupCoordinator
    let group: String
    let topic: String
    let logger: Logger
    private let state: Mutex<State>

    private struct State: Sendable {
        /// What the group has from this stream (at first: where it started).
        var committed: TopicPosition
        var latest: TopicPosition
        var lastCommit: ContinuousClock.Instant?
    }

    /// The shortest time between two commits.
    static let interval: Duration = .seconds(1)

    init(coordinator: GroupCoordinator, group: String, topic: String, start: TopicPosition, logger: Logger) {
        self.coordinator = coordinator
        self.group = group
        self.topic = topic
        self.logger = logger
        self.state = Mutex(State(committed: start, latest: start))
    }

    /// Whether delivered records wait for their commit.
    var hasPending: Bool { state.withLock { $0.latest != $0.committed } }

    /// How long the stream may stay idle: short while a commit is pending, so that it is made
    /// within about a second even when no more records come.
    func idleTimeout(_ keepalive: Duration) -> Duration {
        hasPending ? min(keepalive, Self.interval) : keepalive
    }

    /// Notes the cursor after a write; commits it when the last commit is a second old.
    func delivered(_ cursor: TopicPosition) async {
        let due = state.withLock { s -> Bool in
            s.latest = cursor
            guard s.latest != s.committed else { return false }
            return s.lastCommit.map { ContinuousClock.now - $0 >= Self.interval } ?? true
        }
        if due { await commitLatest() }
    }

    /// Commits what was delivered and not yet committed (the stream is ending).
    func finish() async {
        if hasPending { await commitLatest() }
    }

    private func commitLatest() async {
        let (cursor, previous) = state.withLock { s in
            s.lastCommit = .now
            return (s.latest, s.committed)
        }
        var offsets: [TopicPartition: CommittedOffset] = [:]
        for (partition, next) in cursor.nextOffsets.enumerated()
        where partition >= previous.partitionCount || previous[partition] != next {
            offsets[TopicPartition(topic, partition)] = CommittedOffset(next)
        }
        do {
            try await coordinator.commit(offsets, for: group)
            state.withLock { $0.committed = cursor }
        } catch {
            logger.warning("could not commit a stream's position", metadata: ["group": "\(group)", "topic": "\(topic)", "error": "\(error)"])
        }
    }
}
