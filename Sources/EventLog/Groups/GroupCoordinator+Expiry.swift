extension GroupCoordinator {
    // MARK: Expiry of commits

    /// Starts the periodic search for expired commits (every
    /// ``Options/offsetsRetentionCheckInterval``), unless ``Options/offsetsRetention`` is `nil`.
    func startCommitExpiry() {
        guard options.offsetsRetention != nil, expiryTask == nil, !closed else { return }
        let interval = max(options.offsetsRetentionCheckInterval, .milliseconds(10))
        expiryTask = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                await self?.expireCommits()
            }
        }
    }

    /// Deletes, with tombstones in the offsets topic, the commits of every group that has no
    /// members, whose newest commit is older than ``Options/offsetsRetention`` and whose last
    /// member (if it had any since the coordinator opened) left longer ago than that: Kafka's
    /// `offsets.retention.minutes` for empty groups. A group with members keeps its commits.
    func expireCommits() async {
        guard let retention = options.offsetsRetention, !closed else { return }
        let cutoff = currentMilliseconds() - retention.wholeMilliseconds
        func expired(_ group: String) -> Bool {
            guard groups[group] == nil, classicGroups[group] == nil, let table = commits[group], !table.isEmpty else { return false }
            let newest = table.values.lazy.map(\.committedAt).max() ?? .min
            return newest < cutoff && (lastMemberLeft[group] ?? .min) < cutoff
        }
        lastMemberLeft = lastMemberLeft.filter { $0.value >= cutoff }
        // Batches of tombstones, each for groups of one offsets partition, checked and queued
        // in one step (a commit made meanwhile lands after the tombstones and stays).
        var byPartition: [Int: [String]] = [:]
        for group in commits.keys where expired(group) {
            byPartition[offsetsTopic.partitionIndex(forKey: group.utf8), default: []].append(group)
        }
        let chunks = byPartition.sorted { $0.key < $1.key }.flatMap { _, groups in
            stride(from: 0, to: groups.count, by: Self.expiryBatchGroups).map { Array(groups[$0..<min($0 + Self.expiryBatchGroups, groups.count)]) }
        }
        for candidates in chunks {
            // Re-checked: the previous write suspended us.
            let doomed = candidates.filter(expired)
            let tombstones = doomed.flatMap { group in
                (commits[group] ?? [:]).keys.sorted().map { OffsetCommitRecord(group: group, topicPartition: $0, committed: nil) }
            }
            guard !tombstones.isEmpty else { continue }
            do {
                try await write(tombstones)
                logger.info("expired the commits of consumer groups without members", metadata: [
                    "groups": "\(doomed.count)", "retention_ms": "\(retention.wholeMilliseconds)",
                ])
            } catch {
                logger.error("could not expire consumer group commits", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The most groups whose commits one batch of tombstones deletes.
    static let expiryBatchGroups = 500
}
