#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// The process's limit on open descriptors (`RLIMIT_NOFILE`), and the partitions it has room for.
///
/// A partition keeps its segments' log files open, and its active segment's two index files
/// once records were written: three descriptors for a partition of one segment, one more for
/// each sealed segment. Connections take one each. Docs/OPERATIONS.md has the arithmetic.
package enum DescriptorLimit {
    /// Descriptors a written partition of one segment holds: the log and its two index files.
    package static let perPartition = 3
    /// Descriptors kept for what is neither a partition nor a connection: the store's other
    /// files, the listeners, standard streams, the files a reader or the cleaner opens for a while.
    package static let reserved = 1_024

    /// Raises the soft limit to the hard one (as the JVM does for Kafka, and Go's runtime for
    /// its programs): a process may do this without privileges.
    ///
    /// - Returns: the soft limit now in force, or `nil` when `getrlimit(2)` fails.
    @discardableResult
    package static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is all ones.
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
    }

    /// The partitions whose descriptors fit in `limit` beside `connections` connections:
    /// `(limit - min(connections, limit / 2) - reserved) / perPartition`, at least 1.
    ///
    /// Connections count for at most half the limit: a connection limit set above what the
    /// descriptors allow (`--max-streams 100000` under a limit of 65,536) can never be reached,
    /// and must not leave the partitions no room at all.
    package static func partitionBudget(limit: Int, connections: Int) -> Int {
        max(1, (limit - min(connections, limit / 2) - reserved) / perPartition)
    }
}
