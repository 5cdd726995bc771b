#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// The process's limit on open descriptors (`RLIMIT_NOFILE`).
///
/// Every partition keeps its segments' log files open, so a server of many partitions needs
/// more descriptors than the usual soft limit of 1,024; Docs/OPERATIONS.md has the arithmetic.
package enum DescriptorLimit {
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
        return limit.rlim_cur == RLIM_INFINITY ? Int.max : Int(clamping: limit.rlim_cur)
    }

    /// Descriptors a `logd` needs beside one per partition: the store's files besides the
    /// partitions' logs (lock, index files being written), the listeners, and a margin for
    /// connections.
    package static let headroom = 4_096
}
