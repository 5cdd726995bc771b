#if canImport(Glibc)
import Glibc
#endif

/// Named points where a test process can be made to die, to prove crash safety.
///
/// The points, by the step they interrupt:
/// - appends: `append.written` (a group is in the file, not yet synced), `append.grouped`
///   (group commit: appends that queued while a group was written joined it, none synced yet),
///   `append.synced` (synced, not yet acknowledged);
/// - segment roll: `roll.sealed` (the old segment synced, no new one yet), `roll.created`
///   (the new segment made, the directory not yet synced);
/// - index flush: `index.flushed` (the offset index written, the time index not);
/// - small files written atomically: `checkpoint.synced` / `checkpoint.renamed` (the
///   recovery checkpoint's temporary file synced / renamed into place, its directory not yet
///   synced), `atomic-write.synced` / `atomic-write.renamed` (the same for topic
///   configurations, cleaner checkpoints and the compaction swap's files);
/// - compaction swap: `compaction.manifest-written` (the cleaned files and the manifest
///   written, nothing renamed), `compaction.indexes-renamed` (the new indexes renamed to
///   `*.swap`, the log not), `compaction.committed`, `compaction.old-deleted`,
///   `compaction.renamed` (the new segment under its final names, the manifest not removed);
/// - retention: `retention.log-removed` (an expired segment's log removed, its indexes not),
///   `retention.removed` (every expired file removed, the directory not yet synced);
/// - consumer groups: `group-commit.appended` (a commit durable in the offsets topic, not
///   yet applied in memory);
/// - new partitions of a creation or growth: `partitions.made` (every partition's files
///   made and its directory synced, the topic's directory not), `partitions.synced` (the
///   topic's directory synced too, `topic.conf` not yet written).
///
/// When the environment variable `EVENTLOG_CRASH_AT` names a point, the process exits at
/// once (`_exit`, no cleanup) the n-th time it reaches it (`name` or `name:n`). Production
/// runs never set it; reaching a point costs one comparison with a cached value.
enum CrashPoints {
    private static let target: (name: String, count: Int)? = {
        guard let raw = getenv("EVENTLOG_CRASH_AT") else { return nil }
        let s = String(cString: raw)
        let parts = s.split(separator: ":")
        return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()
    private static let hits = Atomic<Int>(0)

    static func hit(_ name: String) {
        guard let target, target.name == name else { return }
        if hits.add(1, ordering: .relaxed).newValue >= target.count { _exit(137) }
    }

    /// The two points of an atomic file write (``FileSystem/writeAtomically(_:_:directory:faults:crashPoints:)``).
    struct Pair: Sendable {
        var synced: String
        var renamed: String

        static let atomicWrite = Pair(synced: "atomic-write.synced", renamed: "atomic-write.renamed")
        static let checkpoint = Pair(synced: "checkpoint.synced", renamed: "checkpoint.renamed")
    }
}

import Synchronization
