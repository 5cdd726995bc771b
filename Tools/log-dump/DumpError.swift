/// Why log-dump could not run at all: a usage error or an unreadable PATH (exit status 2).
///
/// Damage found inside readable files is never a `DumpError`: it is a ``Finding``.
struct DumpError: Error, CustomStringConvertible {
    /// One clear sentence, printed on standard error.
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
