/// The metadata log-mirror stores with each offset it commits to the source: the target's end
/// offsets, per target partition, right after the batches it acknowledged up to that offset
/// (`log-mirror/1 target-ends=0:120,1:98`).
///
/// After a kill -9, the target may hold batches the killed mirror wrote but could not commit;
/// the difference between the target's end offsets now and these is how many records the
/// restarted mirror writes again (duplicates, at most one batch per partition), counted and
/// reported. It counts exactly when the mirror is the target topic's only writer.
struct CommitMetadata: Equatable {
    static let prefix = "log-mirror/1 target-ends="
    /// Kafka's `offset.metadata.max.bytes` default (logd's too): longer metadata is not stored.
    static let maxBytes = 4096

    /// The target's end offset per target partition.
    var targetEnds: [Int: Int64]

    /// The metadata string, or an empty one when it would exceed ``maxBytes`` (a topic with
    /// thousands of partitions mirrored by key: duplicates are then not counted).
    var encoded: String {
        let text = Self.prefix + targetEnds.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        return text.utf8.count <= Self.maxBytes ? text : ""
    }

    init(targetEnds: [Int: Int64]) { self.targetEnds = targetEnds }

    /// Parses metadata log-mirror wrote; `nil` for anything else (another consumer's, or none).
    init?(parsing text: String?) {
        guard let text, text.hasPrefix(Self.prefix) else { return nil }
        var ends: [Int: Int64] = [:]
        for entry in text.dropFirst(Self.prefix.count).split(separator: ",") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let partition = Int(parts[0]), let end = Int64(parts[1]), partition >= 0, end >= 0 else { return nil }
            ends[partition] = end
        }
        targetEnds = ends
    }
}
