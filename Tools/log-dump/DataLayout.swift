import EventLog

/// What PATH holds, found by walking it with `lstat(2)` before any log is read (so the
/// total size is known for the progress bar). Symbolic links are reported, never followed.
struct DataLayout: Sendable {
    struct Partition: Sendable {
        var directory: String
        var number: Int?
        var segments: [SegmentFiles] = []
    }

    struct Topic: Sendable {
        var name: String?
        var directory: String?
        var compacted = false
        var partitions: [Partition] = []
    }

    var kind: PathKind
    var topics: [Topic] = []
    /// For an index PATH: its segment.
    var indexSegment: SegmentFiles?
    var cleanShutdown: Bool?
    /// Stray files, links and missing partitions met on the walk.
    var findings: [Finding] = []

    /// Bytes of `.log` files to read.
    var logBytes: Int64 {
        topics.reduce(0) { $0 + $1.partitions.reduce(0) { $0 + $1.segments.reduce(0) { $0 + $1.logSize } } }
    }

    /// Walks `path`.
    ///
    /// - Throws: ``DumpError`` when PATH is missing, unreadable, or not an EventLog file or directory.
    init(path: String) throws(DumpError) {
        let entry = try FileEntry.status(of: path, followSymlink: true).get()
        switch entry.type {
        case .regular:
            let segment = SegmentFiles(anyFile: path, size: entry.size)
            if path.hasSuffix(".log") {
                kind = .log
                let topic = Topic(partitions: [Partition(directory: segment.directory, segments: [segment])])
                topics = [topic]
            } else if path.hasSuffix(".timeindex") {
                kind = .timeIndex
                indexSegment = segment
            } else if path.hasSuffix(".index") {
                kind = .offsetIndex
                indexSegment = segment
            } else {
                throw DumpError("\(path) is neither a .log, .index or .timeindex file nor an EventLog directory.")
            }
        case .directory:
            let entries = try FileEntry.list(path)
            let names = Set(entries.map(\.name))
            let base = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            if entries.contains(where: { $0.name == "topics" && $0.type == .directory }) {
                kind = .dataDirectory
                cleanShutdown = names.contains(".clean-shutdown")
                for e in try FileEntry.list(base + "/topics") {
                    switch e.type {
                    case .directory: topics.append(try Self.topic(at: e.path, name: e.name, findings: &findings))
                    case .symlink: findings.append(.note(.symlink, e.path, at: nil, "a symbolic link, not followed."))
                    default: findings.append(.note(.unexpectedFile, e.path, at: nil, "not a topic directory; skipped."))
                    }
                }
            } else if names.contains("topic.conf")
                || (!Self.looksLikePartition(entries) && entries.contains { $0.type == .directory && Int($0.name) != nil })
            {
                kind = .topic
                topics = [try Self.topic(at: base, name: Self.lastComponent(base), findings: &findings)]
            } else if Self.looksLikePartition(entries) || Int(Self.lastComponent(base)) != nil {
                kind = .partition
                let parent = Self.parent(of: base)
                let topic = Topic(
                    name: parent.map(Self.lastComponent), directory: parent,
                    compacted: parent.map { Self.isCompacted(topicDirectory: $0) } ?? false,
                    partitions: [try Self.partition(at: base, entries: entries, findings: &findings)])
                topics = [topic]
            } else {
                throw DumpError("\(path) is not an EventLog data, topic or partition directory (no topics/, topic.conf or segment files in it).")
            }
        case .symlink, .other:
            throw DumpError("\(path) is neither a regular file nor a directory.")
        }
    }

    private static func looksLikePartition(_ entries: [FileEntry]) -> Bool {
        entries.contains { e in
            e.name == "recovery-checkpoint" || e.name.hasSuffix(".log") || e.name.hasSuffix(".index") || e.name.hasSuffix(".timeindex")
        }
    }

    private static func topic(at directory: String, name: String, findings: inout [Finding]) throws(DumpError) -> Topic {
        var topic = Topic(name: name, directory: directory, compacted: isCompacted(topicDirectory: directory))
        let entries: [FileEntry]
        do { entries = try FileEntry.list(directory) } catch {
            findings.append(.problem(.unreadable, directory, at: nil, error.message))
            return topic
        }
        for e in entries {
            switch e.type {
            case .directory where Int(e.name) != nil:
                do {
                    topic.partitions.append(try partition(at: e.path, entries: FileEntry.list(e.path), findings: &findings))
                } catch {
                    findings.append(.problem(.unreadable, e.path, at: nil, error.message))
                }
            case .symlink:
                findings.append(.note(.symlink, e.path, at: nil, "a symbolic link, not followed."))
            case .regular where e.name == "topic.conf":
                break
            default:
                findings.append(.note(.unexpectedFile, e.path, at: nil, "not part of the topic's layout; skipped."))
            }
        }
        topic.partitions.sort { ($0.number ?? 0) < ($1.number ?? 0) }
        if let declared = declaredPartitions(topicDirectory: directory) {
            let present = Set(topic.partitions.compactMap(\.number))
            for i in 0..<declared where !present.contains(i) {
                findings.append(.problem(.partitionMissing, directory + "/" + String(i), at: nil,
                                         "topic.conf declares \(declared) partitions but partition \(i)'s directory is missing."))
            }
        }
        return topic
    }

    private static func partition(at directory: String, entries: [FileEntry], findings: inout [Finding]) throws(DumpError) -> Partition {
        var partition = Partition(directory: directory, number: Int(lastComponent(directory)))
        let logNames = Set(entries.filter { $0.type == .regular && $0.name.hasSuffix(".log") }.map(\.name))
        for e in entries {
            if e.type == .symlink {
                findings.append(.note(.symlink, e.path, at: nil, "a symbolic link, not followed."))
                continue
            }
            guard e.type == .regular else {
                findings.append(.note(.unexpectedFile, e.path, at: nil, "not part of the partition's layout; skipped."))
                continue
            }
            if e.name.hasSuffix(".log") {
                partition.segments.append(SegmentFiles(anyFile: e.path, size: e.size))
            } else if e.name.hasSuffix(".index") || e.name.hasSuffix(".timeindex") {
                let stem = e.name.split(separator: ".").first.map(String.init) ?? e.name
                if !logNames.contains(stem + ".log") {
                    findings.append(.note(.unexpectedFile, e.path, at: nil, "an index without its segment \(stem).log."))
                }
            } else if e.name != "recovery-checkpoint" {
                findings.append(.note(.unexpectedFile, e.path, at: nil, "not part of the partition's layout; skipped."))
            }
        }
        partition.segments.sort { ($0.baseOffset ?? .max, $0.log) < ($1.baseOffset ?? .max, $1.log) }
        return partition
    }

    /// The `key=value` lines of a topic.conf, or `nil` when there is none.
    private static func topicSettings(_ topicDirectory: String) -> [Substring: Substring]? {
        guard let file = try? ReadOnlyFile(path: topicDirectory + "/topic.conf"), file.size < 1 << 20,
              let bytes = try? file.readAll() else { return nil }
        var settings: [Substring: Substring] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            settings[line[..<eq]] = line[line.index(after: eq)...]
        }
        return settings
    }

    static func isCompacted(topicDirectory: String) -> Bool {
        topicSettings(topicDirectory)?["cleanup_policy"]?.contains("compact") ?? false
    }

    private static func declaredPartitions(topicDirectory: String) -> Int? {
        topicSettings(topicDirectory)?["partitions"].flatMap { Int($0) }
    }

    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static func parent(of path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        let p = String(path[..<slash])
        return p.isEmpty ? nil : p
    }
}
