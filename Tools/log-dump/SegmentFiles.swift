import EventLog

/// The files of one segment as found on disk: the `.log` and, when present, its indexes.
struct SegmentFiles: Sendable {
    var directory: String
    /// From the file name; `nil` when the name is not `<20 digits>.<ext>`.
    var baseOffset: Int64?
    var log: String
    var logSize: Int64
    /// Paths of the index files, whether or not they exist (see ``hasIndex``).
    var index: String
    var timeIndex: String
    var hasIndex: Bool
    var hasTimeIndex: Bool

    /// The segment a file of it (`.log`, `.index`, `.timeindex`) belongs to.
    init(anyFile path: String, size: Int64) {
        let slash = path.lastIndex(of: "/")
        directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let stem = name.split(separator: ".", omittingEmptySubsequences: false).dropLast().joined(separator: ".")
        let prefix = slash.map { String(path[...$0]) } ?? ""
        baseOffset = SegmentPaths.baseOffset(ofLogFile: stem + ".log")
        log = prefix + stem + ".log"
        index = prefix + stem + ".index"
        timeIndex = prefix + stem + ".timeindex"
        logSize = path == log ? size : 0
        hasIndex = Self.isRegularFile(index)
        hasTimeIndex = Self.isRegularFile(timeIndex)
    }

    private static func isRegularFile(_ path: String) -> Bool {
        if case .success(let e) = FileEntry.status(of: path, followSymlink: false), e.type == .regular { return true }
        return false
    }
}
