#if canImport(Glibc)
import Glibc
#endif

/// Named points where a test process can be made to die, to prove crash safety.
///
/// The points: `append.written` (a group is in the file, not yet synced), `append.synced`
/// (synced, not yet acknowledged), `roll.sealed` (the old segment synced, no new one yet),
/// `roll.created` (the new segment made, the directory not yet synced), `index.flushed` (the
/// offset index written, the time index not), `atomic-write.renamed` (a checkpoint or
/// configuration file renamed into place, its directory not yet synced),
/// `compaction.committed`, `compaction.old-deleted`.
///
/// When the environment variable `EVENTLOG_CRASH_AT` names a point, the process exits at
/// once (`_exit`, no cleanup) the n-th time it reaches it (`name` or `name:n`). Production
/// runs never set it; reaching a point costs one dictionary lookup of a cached value.
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
}

import Synchronization
