/// Why log-mirror stopped: a problem retrying cannot fix (a topic the source does not have,
/// partition counts that rule out the chosen partitioning, a batch the target refuses, a
/// group that other consumers use). Printed as one sentence on standard error; exit status 1.
///
/// Broken connections and brokers that restart are not errors: they are retried.
struct MirrorError: Error, CustomStringConvertible {
    /// One clear sentence.
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
