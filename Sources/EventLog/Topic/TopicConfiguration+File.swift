extension TopicConfiguration {
    /// The `topic.conf` text: one `key=value` line per setting (see Docs/FORMAT.md).
    ///
    /// - Parameter offsetGaps: whether compaction may have left gaps between offsets although
    ///   the policy no longer compacts (``LogStore/alterTopic(named:_:)`` turned it off): then
    ///   an `offset_gaps=true` line keeps reads from expecting dense offsets after a restart.
    ///   - createdPartitions: the partition count the topic was created with, when it has grown
    ///     since: a `created_partitions` line (``Topic/createdPartitionCount``).
    package func encodedFile(offsetGaps: Bool = false, createdPartitions: Int? = nil) -> [UInt8] {
        var lines = ["format=1"]
        lines.append("partitions=\(partitions)")
        lines.append("compression=\(compression)")
        lines.append("durability=\(durability)")
        lines.append("cleanup_policy=\(cleanupPolicy)")
        lines.append("retention_ms=\(retentionMs)")
        lines.append("retention_bytes=\(retentionBytes)")
        lines.append("segment_bytes=\(segmentBytes)")
        lines.append("segment_ms=\(segmentMs)")
        lines.append("index_interval_bytes=\(indexIntervalBytes)")
        lines.append("delete_retention_ms=\(deleteRetentionMs)")
        lines.append("min_compaction_lag_ms=\(minCompactionLagMs)")
        lines.append("max_compaction_lag_ms=\(maxCompactionLagMs)")
        lines.append("min_cleanable_dirty_ratio=\(minCleanableDirtyRatio)")
        lines.append("max_batch_bytes=\(maxBatchBytes)")
        lines.append("internal=\(isInternal)")
        if offsetGaps && !cleanupPolicy.contains(.compact) { lines.append("offset_gaps=true") }
        if let createdPartitions, createdPartitions < partitions { lines.append("created_partitions=\(createdPartitions)") }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// Parses a `topic.conf` file; unknown keys are ignored, bad values are errors, and the
    /// settings must pass ``validate()`` (a damaged file must not make, say, zero partitions).
    package init(file bytes: [UInt8], path: String) throws(LogError) {
        self = try Self.decodeFile(bytes, path: path).configuration
    }

    /// Parses a `topic.conf` file (as ``init(file:path:)``), with its `offset_gaps` line:
    /// whether compaction may have left gaps between offsets (see ``encodedFile(offsetGaps:)``).
    /// Also returns its `created_partitions` (`nil` when the topic never grew).
    package static func decodeFile(_ bytes: [UInt8], path: String) throws(LogError)
        -> (configuration: TopicConfiguration, offsetGaps: Bool, createdPartitions: Int?) {
        var configuration = TopicConfiguration()
        let (offsetGaps, createdPartitions) = try configuration.read(file: bytes, path: path)
        return (configuration, offsetGaps, createdPartitions)
    }

    /// Reads the settings of a `topic.conf` over the defaults; returns its `offset_gaps` and
    /// `created_partitions`.
    private mutating func read(file bytes: [UInt8], path: String) throws(LogError) -> (offsetGaps: Bool, createdPartitions: Int?) {
        var offsetGaps = false
        var createdPartitions: Int?
        func bad(_ line: Substring) -> LogError {
            LogError(.corruptData, "\(path): cannot read the setting \"\(line)\".")
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { throw bad(line) }
            let key = line[..<eq], value = String(line[line.index(after: eq)...])
            switch key {
            case "format": guard value == "1" else { throw bad(line) }
            case "partitions": guard let v = Int(value) else { throw bad(line) }; partitions = v
            case "compression": guard let v = CompressionCodec(name: value) else { throw bad(line) }; compression = v
            case "durability": guard let v = Durability(parsing: value) else { throw bad(line) }; durability = v
            case "cleanup_policy": guard let v = CleanupPolicy(name: value) else { throw bad(line) }; cleanupPolicy = v
            case "retention_ms": guard let v = Int64(value) else { throw bad(line) }; retentionMs = v
            case "retention_bytes": guard let v = Int64(value) else { throw bad(line) }; retentionBytes = v
            case "segment_bytes": guard let v = Int64(value) else { throw bad(line) }; segmentBytes = v
            case "segment_ms": guard let v = Int64(value) else { throw bad(line) }; segmentMs = v
            case "index_interval_bytes": guard let v = Int(value) else { throw bad(line) }; indexIntervalBytes = v
            case "delete_retention_ms": guard let v = Int64(value) else { throw bad(line) }; deleteRetentionMs = v
            case "min_compaction_lag_ms": guard let v = Int64(value) else { throw bad(line) }; minCompactionLagMs = v
            case "max_compaction_lag_ms": guard let v = Int64(value) else { throw bad(line) }; maxCompactionLagMs = v
            case "min_cleanable_dirty_ratio": guard let v = Double(value) else { throw bad(line) }; minCleanableDirtyRatio = v
            case "max_batch_bytes": guard let v = Int(value) else { throw bad(line) }; maxBatchBytes = v
            case "internal": isInternal = value == "true"
            case "offset_gaps": offsetGaps = value == "true"
            case "created_partitions": guard let v = Int(value), v >= 1 else { throw bad(line) }; createdPartitions = v
            default: continue
            }
        }
        do {
            try validate()
        } catch {
            throw LogError(.corruptData, "\(path): \(error.message)")
        }
        if let created = createdPartitions, created > partitions {
            throw LogError(.corruptData, "\(path): created_partitions (\(created)) is more than partitions (\(partitions)).")
        }
        return (offsetGaps, createdPartitions)
    }
}
