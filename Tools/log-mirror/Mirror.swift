import EventLog
import Glibc
import KafkaClient
import KafkaProtocol

/// Copies topics from a source cluster to a target cluster, continuously: fetch from the
/// source at the mirror's positions, produce to the target with an idempotent producer, and
/// commit the new positions to the source's group coordinator once the target acknowledged
/// them.
///
/// At most one batch per source partition is between "acknowledged by the target" and
/// "committed to the source" (the next wave waits for the commit), so a kill -9 writes at most
/// that batch again on restart; the restart counts those duplicates from the target ends
/// stored in the commits' metadata (``CommitMetadata``) and reports them.
///
/// Every failure of a broker (a refused connection, a timeout, a restart, a leader moving) is
/// retried with a back-off, the work in flight kept; only what retrying cannot fix stops it
/// (``MirrorError``).
final class Mirror {
    /// How one topic's records go to the target.
    struct Route {
        var sourcePartitions: Int
        var targetPartitions: Int
        /// Batches go to the partition of the same index as they are (else: by key).
        var bySourcePartition: Bool
    }

    let settings: MirrorSettings
    let source: KafkaCluster
    let target: KafkaCluster
    let producer: TargetProducer
    let status: StatusReporter

    var routes: [String: Route] = [:]
    /// The next source offset to mirror, per source partition.
    var positions: [TopicPartition: Int64] = [:]
    /// The offset last committed to the source, per source partition.
    var committed: [TopicPartition: Int64] = [:]
    /// The source's high watermark at the last fetch, per source partition.
    var highWatermarks: [TopicPartition: Int64] = [:]
    /// Batches fetched and not yet mirrored, per source partition, in order.
    var queue: [TopicPartition: ArraySlice<SourceBatch>] = [:]
    /// The batches being produced, and where the source positions move once they all are.
    var wave: [TargetBatch] = []
    var waveAdvances: [TopicPartition: Int64] = [:]
    var waveRecords = 0

    private var isSetUp = false
    var sourceMetadataStale = false
    var targetMetadataStale = false
    /// Counters reported in the status lines.
    var mirroredRecords: Int64 = 0
    var mirroredBatches: Int64 = 0
    var duplicates: Int64 = 0
    var skippedRecords: Int64 = 0
    var retries: Int64 = 0
    private var acknowledgedWaves = 0

    init(settings: MirrorSettings) {
        self.settings = settings
        source = KafkaCluster(bootstrap: settings.source, clientId: settings.clientId, timeoutMs: settings.timeoutMs,
                              maxResponseBytes: settings.fetchMaxBytes + (16 << 20), credentials: settings.sourceCredentials)
        target = KafkaCluster(bootstrap: settings.target, clientId: settings.clientId, timeoutMs: settings.timeoutMs,
                              credentials: settings.targetCredentials)
        producer = TargetProducer(cluster: target, timeoutMs: settings.timeoutMs)
        status = StatusReporter(intervalMs: settings.statusIntervalMs)
    }

    /// Mirrors until SIGTERM or SIGINT (or, with `--until-caught-up`, until every partition
    /// is mirrored and committed up to the source's end), then commits and returns.
    ///
    /// - Throws: ``MirrorError`` for what retrying cannot fix.
    func run() throws {
        var backoffMs = 100
        var failing: String?
        var lastLoggedMs: Int64 = 0
        while !StopSignal.isRequested {
            do {
                try step()
                if let problem = failing {
                    status.note("recovered after: \(problem)")
                    failing = nil
                }
                backoffMs = 100
            } catch let error as KafkaClientError {
                guard error.isRetriable else { throw MirrorError(error.message) }
                retries += 1
                let now = StatusReporter.nowMs()
                if error.message != failing || now - lastLoggedMs >= 10_000 {
                    status.note("retrying in \(backoffMs) ms: \(error.message)")
                    lastLoggedMs = now
                }
                failing = error.message
                source.disconnect()
                target.disconnect()
                sourceMetadataStale = true
                targetMetadataStale = true
                StopSignal.sleep(ms: backoffMs)
                backoffMs = min(backoffMs * 2, 2_000)
            }
            status.report(self, final: false)
            if settings.untilCaughtUp && isCaughtUp {
                status.note("caught up: every partition is mirrored and committed up to the source's end.")
                break
            }
        }
        finish()
        status.report(self, final: true)
    }

    /// On a stop: one last try to deliver the wave in flight and commit, without retrying.
    private func finish() {
        guard isSetUp else { return }
        do {
            if !wave.isEmpty { try deliverWave() }
            if wave.isEmpty { try commitPositions() }
        } catch {
            status.note("stopping without the last commit: \(error); the next start resumes from the previous one.")
        }
    }

    /// One step: set up, or deliver the wave in flight, or commit, or build the next wave, or fetch.
    private func step() throws {
        if !isSetUp {
            try setUp()
            isSetUp = true
            return
        }
        if sourceMetadataStale {
            try source.refreshMetadata(topics: routes.keys.sorted())
            sourceMetadataStale = false
        }
        if targetMetadataStale {
            try target.refreshMetadata(topics: routes.keys.sorted())
            targetMetadataStale = false
        }
        if !wave.isEmpty || !waveAdvances.isEmpty {
            try deliverWave()
            return
        }
        if positions.contains(where: { committed[$0.key] != $0.value }) {
            try commitPositions()
            return
        }
        if queue.values.contains(where: { !$0.isEmpty }) {
            try buildWave()
            return
        }
        try fetch()
    }

    /// Produces the wave, then moves the positions it covers.
    private func deliverWave() throws {
        if !wave.isEmpty { try producer.send(&wave) }
        acknowledgedWaves += 1
        if let kill = settings.faultKillAfterAcks, acknowledgedWaves >= kill { raise(SIGKILL) }
        for (tp, next) in waveAdvances { positions[tp] = next }
        mirroredRecords += Int64(waveRecords)
        waveAdvances = [:]
        waveRecords = 0
    }

    /// Whether every partition was fetched at least once and everything up to its high
    /// watermark is mirrored and committed.
    var isCaughtUp: Bool {
        guard isSetUp, wave.isEmpty, waveAdvances.isEmpty, !positions.isEmpty else { return false }
        return positions.allSatisfy { tp, position in
            guard let end = highWatermarks[tp] else { return false }
            return position >= end && committed[tp] == position && (queue[tp]?.isEmpty ?? true)
        }
    }

    /// Total records the source holds past the mirror's positions.
    var lag: Int64 {
        positions.reduce(0) { sum, entry in sum + max(0, (highWatermarks[entry.key] ?? entry.value) - entry.value) }
    }
}
