extension LogStore {
    /// Changes a topic's settings after its creation: durability, cleanup policy, retention
    /// (time and bytes), the compaction settings, and the number of partitions, which may grow.
    ///
    /// ```swift
    /// try await store.alterTopic(named: "orders") { configuration in
    ///     configuration.retention = .seconds(7 * 86_400)
    ///     configuration.cleanupPolicy = [.compact, .delete]
    ///     configuration.durability = .interval(.milliseconds(250))
    ///     configuration.partitions = 6
    /// }
    /// ```
    ///
    /// `change` gets the topic's current settings and edits them. The result is checked
    /// (``TopicConfiguration/validate()``), then written to the topic's `topic.conf` atomically
    /// (a temporary file, `fdatasync(2)`, `rename(2)`, `fsync(2)` of the directory): a crash
    /// leaves the old settings or the new ones, never a mix. From the moment this returns:
    /// - appends that start use the new durability (one under way may be acknowledged under
    ///   the old or the new one). Moving to `fsync` first syncs what was written before, so
    ///   everything acknowledged earlier is on stable storage too;
    /// - the cleaner's next retention or compaction pass uses the new policy and limits (a pass
    ///   under way finishes with the old ones). A topic compacted once keeps accepting the gaps
    ///   compaction left between offsets after `compact` is turned off.
    ///
    /// Growing the partition count adds empty partitions at the end: their directories are
    /// made, then synced together (from several threads at once: 1,000 partitions take well
    /// under a second), then `topic.conf` names the new count (the commit point: a crash
    /// before it leaves the old count, and directories past it that the next growth opens
    /// again), then the ``Topic/partitions`` get them and every tail of the topic waiting for
    /// records is woken to wait on them too. As in Kafka, keys hash over the new count from
    /// then on, so a key's later records may go to another partition than its earlier ones.
    /// The count never shrinks.
    ///
    /// The other settings are fixed at creation: the compression codec, the segment size and
    /// age, the index interval, the batch limit, and whether the topic is internal. Internal
    /// topics (the library's own state) cannot be altered at all.
    ///
    /// An alter waits while the same name is being created, altered or deleted (and they wait
    /// for it). A change that changes nothing writes nothing.
    ///
    /// - Parameters:
    ///   - name: the topic's name.
    ///   - change: edits the settings; called once, before anything is written.
    /// - Returns: the topic, with its new ``Topic/configuration``.
    /// - Throws: ``LogError/Code/topicNotFound``; ``LogError/Code/internalTopic`` for an
    ///   internal topic; ``LogError/Code/fixedSetting`` for fewer partitions or a change of a
    ///   setting fixed at creation (codec, segment size…);
    ///   ``LogError/Code/invalidArgument`` for a value out of range;
    ///   ``LogError/Code/partitionLimitReached`` for a growth past ``Options/maxPartitions``;
    ///   ``LogError/Code/closed``; or an I/O error, the topic then keeping its old
    ///   settings and partitions (in memory and, unless the restore of its file failed too,
    ///   on disk).
    @discardableResult
    public func alterTopic(named name: String, _ change: (inout TopicConfiguration) -> Void) async throws -> Topic {
        let topic = try await beginAlter(name)
        defer { finishNameWork(name) }
        let old = topic.configuration
        var changed = old
        change(&changed)
        let new = changed
        try Self.checkAlteration(of: name, from: old, to: new)
        try new.validate()
        guard new != old else { return topic }

        let offsetGaps = topic.live.mayHaveOffsetGaps || new.cleanupPolicy.contains(.compact)
        if new.partitions > old.partitions {
            try state.withLock { s throws(LogError) in
                try checkPartitionLimit(s, adding: new.partitions - old.partitions,
                                        "topic \(name) did not grow from \(old.partitions) to \(new.partitions) partitions")
                s.busyNames[name]?.addedPartitions = new.partitions - old.partitions
            }
            let added = try await executor.run { () throws -> [Partition] in
                try self.growPartitions(of: topic, from: old, to: new, offsetGaps: offsetGaps)
            }
            topic.addPartitions(added)
        } else {
            try await executor.run { try self.writeTopicFile(of: topic, new, offsetGaps: offsetGaps, restoring: old) }
        }
        topic.live.replace(with: new)
        if new.durability == .fsync && old.durability != .fsync {
            // What was acknowledged before without a sync is made durable now. The change is
            // made whatever happens here: a failed sync is the partition's own (writeFailure).
            try? await executor.run {
                for p in topic.partitions where !p.isClosed {
                    do { try p.syncNow() } catch {
                        self.logger.error("sync after a change to fsync durability failed", metadata: [
                            "partition": "\(p.topicName)/\(p.index)", "error": "\(error)",
                        ])
                    }
                }
            }
        }
        logger.info("altered topic", metadata: [
            "topic": "\(name)", "partitions": "\(new.partitions)", "durability": "\(new.durability)", "cleanup_policy": "\(new.cleanupPolicy)",
            "retention_ms": "\(new.retentionMs)", "retention_bytes": "\(new.retentionBytes)",
        ])
        return topic
    }

    /// Marks `name` as being altered once no create, alter or delete of it is under way, and
    /// returns its topic.
    private func beginAlter(_ name: String) async throws -> Topic {
        enum Step { case alter(Topic), wait }
        while true {
            let step = try state.withLock { s throws(LogError) -> Step in
                if s.closed { throw LogError(.closed, "the store at \(directory) is closed.") }
                if s.busyNames[name] != nil { return .wait }
                guard let topic = s.topics[name] else { throw LogError(.topicNotFound, "there is no topic named \(name).") }
                if topic.isInternal {
                    throw LogError(.internalTopic, "topic \(name) is internal: its settings cannot be changed.")
                }
                s.busyNames[name] = NameWork(kind: .altering)
                return .alter(topic)
            }
            switch step {
            case .alter(let topic): return topic
            case .wait: await waitForNameWork(name)
            }
        }
    }

    /// Refuses a change of a setting fixed at creation, naming it.
    static func checkAlteration(of name: String, from old: TopicConfiguration, to new: TopicConfiguration) throws(LogError) {
        if new.partitions < old.partitions {
            throw LogError(.fixedSetting, "topic \(name) has \(old.partitions) partitions and cannot have fewer (\(new.partitions) asked).")
        }
        func fixed(_ setting: String, _ value: String) -> LogError {
            LogError(.fixedSetting, "\(setting) cannot change after a topic is created: topic \(name) keeps \(value).")
        }
        if new.compression != old.compression { throw fixed("compression", "\(old.compression)") }
        if new.segmentBytes != old.segmentBytes { throw fixed("segment_bytes", "\(old.segmentBytes)") }
        if new.segmentMs != old.segmentMs { throw fixed("segment_ms", "\(old.segmentMs)") }
        if new.indexIntervalBytes != old.indexIntervalBytes { throw fixed("index_interval_bytes", "\(old.indexIntervalBytes)") }
        if new.maxBatchBytes != old.maxBatchBytes { throw fixed("max_batch_bytes", "\(old.maxBatchBytes)") }
        if new.isInternal != old.isInternal { throw fixed("internal", "\(old.isInternal)") }
    }

    /// Makes the partitions `old.partitions..<new.partitions` durable (creating their
    /// directories, or opening what an interrupted growth left of them; ``makePartitions(_:of:directory:configuration:)``),
    /// then writes `topic.conf` with the new count: the commit point. When a step fails, the
    /// new partitions are closed and their directories removed (best effort: a directory left
    /// behind is reopened by the next growth).
    private func growPartitions(of topic: Topic, from old: TopicConfiguration, to new: TopicConfiguration,
                                offsetGaps: Bool) throws(LogError) -> [Partition] {
        let added = try makePartitions(old.partitions..<new.partitions, of: topic.name, directory: topic.directory,
                                       configuration: topic.live)
        do {
            try writeTopicFile(of: topic, new, offsetGaps: offsetGaps, restoring: old)
            return added
        } catch {
            for partition in added { partition.closeAbandoned() }
            for index in old.partitions..<new.partitions {
                try? FileSystem.removeTree(topic.directory + "/" + String(index))
            }
            throw error
        }
    }

    /// Replaces the topic's `topic.conf` atomically (the fault seam's and crash points' path
    /// for small files). When that fails, the old file is written back, so that the file and
    /// the settings in memory, which stay the old ones, agree.
    private func writeTopicFile(of topic: Topic, _ configuration: TopicConfiguration, offsetGaps: Bool,
                                restoring old: TopicConfiguration) throws(LogError) {
        let path = topic.directory + "/topic.conf"
        do {
            try FileSystem.writeAtomically(path, configuration.encodedFile(offsetGaps: offsetGaps, createdPartitions: topic.createdPartitionCount),
                                           directory: topic.directory, faults: options.faults)
        } catch {
            do {
                try FileSystem.writeAtomically(path, old.encodedFile(offsetGaps: topic.live.mayHaveOffsetGaps,
                                                                     createdPartitions: topic.createdPartitionCount),
                                               directory: topic.directory, faults: options.faults)
            } catch let restore {
                logger.error("could not write back a topic's settings after a failed change: the next open may find the new ones", metadata: [
                    "topic": "\(topic.name)", "error": "\(restore)",
                ])
            }
            throw error
        }
    }
}
