import Foundation
import TestSupport
import Testing
@testable import EventLog

/// The file system a power cut leaves behind, rebuilt from the engine's journal of disk
/// operations (``FaultInjector/startJournal()``), as `dm-log-writes` replays a device log.
///
/// It keeps, for every file, the bytes written (what the page cache holds) and the bytes on
/// stable storage (what its last `fdatasync(2)` covered), and for every directory the entries
/// made and the entries a directory `fsync(2)` made durable. The weakest POSIX promises, no
/// more: a write is durable only after its file is synced; a creation, rename or removal only
/// after its directory is synced; nothing is ever ordered for free (ext4's `data=ordered`
/// gives more, so passing here means passing there).
struct PowerCutModel {
    final class Inode {
        var isDirectory: Bool
        var cached: [UInt8] = []
        var durable: [UInt8] = []
        /// Writes after the last sync, in order, for images that keep some of them.
        var unsynced: [(offset: Int64, bytes: [UInt8])] = []
        init(isDirectory: Bool) { self.isDirectory = isDirectory }
    }

    /// Paths as the running process sees them, and as stable storage holds them.
    private(set) var names: [String: Inode] = [:]
    private(set) var durableNames: [String: Inode] = [:]
    let root: String

    /// A model whose only durable directory is `root` (the data directory existed before).
    init(root: String) {
        self.root = root
        let dir = Inode(isDirectory: true)
        names[root] = dir
        durableNames[root] = dir
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    mutating func apply(_ operation: FaultInjector.DiskOperation) {
        switch operation {
        case .create(let path):
            if names[path] == nil { names[path] = Inode(isDirectory: false) }
        case .write(let path, let offset, let bytes):
            guard let inode = names[path] else { return }
            Self.write(bytes, at: offset, into: &inode.cached)
            inode.unsynced.append((offset, bytes))
        case .truncate(let path, let size):
            guard let inode = names[path] else { return }
            Self.resize(&inode.cached, to: size)
            inode.unsynced.append((size, []))
        case .sync(let path):
            guard let inode = names[path] else { return }
            inode.durable = inode.cached
            inode.unsynced = []
        case .mkdir(let path):
            names[path] = Inode(isDirectory: true)
        case .syncDirectory(let dir):
            for key in durableNames.keys where Self.parent(of: key) == dir && names[key] == nil {
                durableNames[key] = nil
            }
            for (key, inode) in names where Self.parent(of: key) == dir {
                durableNames[key] = inode
            }
        case .rename(let from, let to):
            names[to] = names[from]
            names[from] = nil
        case .unlink(let path):
            names[path] = nil
        }
    }

    /// Writes the durable state into `directory` (which takes the place of `root`): the
    /// directories and files whose entries reached stable storage, with their synced bytes,
    /// plus the first `extraWrites` unsynced writes of each file (a writeback that got that far).
    ///
    /// With `processCrash`, what a process killed at this point leaves instead (the kernel
    /// keeps what it was given): every entry made and every byte written, synced or not.
    func materialize(at directory: String, extraWrites: Int = 0, processCrash: Bool = false) throws {
        let entries = processCrash ? names : durableNames
        let reachable = entries.keys.filter { path in
            // An entry counts only if every directory above it is durable too.
            var p = path
            while p != root {
                p = Self.parent(of: p)
                if entries[p] == nil { return false }
            }
            return true
        }
        for path in reachable.sorted() {
            let target = directory + path.dropFirst(root.count)
            let inode = entries[path]!
            if inode.isDirectory {
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            } else if processCrash {
                _ = FileManager.default.createFile(atPath: target, contents: Data(inode.cached))
            } else {
                var bytes = inode.durable
                for (offset, data) in inode.unsynced.prefix(extraWrites) {
                    if data.isEmpty { Self.resize(&bytes, to: offset) } else { Self.write(data, at: offset, into: &bytes) }
                }
                _ = FileManager.default.createFile(atPath: target, contents: Data(bytes))
            }
        }
    }

    private static func write(_ bytes: [UInt8], at offset: Int64, into file: inout [UInt8]) {
        let end = Int(offset) + bytes.count
        if file.count < end { file.append(contentsOf: repeatElement(0, count: end - file.count)) }
        file.replaceSubrange(Int(offset)..<end, with: bytes)
    }

    private static func resize(_ file: inout [UInt8], to size: Int64) {
        if file.count > Int(size) { file.removeLast(file.count - Int(size)) } else {
            file.append(contentsOf: repeatElement(0, count: Int(size) - file.count))
        }
    }
}

extension PowerCutModel {
    /// Opens a store in `base/data` whose disk operations are journalled (no background work),
    /// runs `setUp` on it, then `operation`, closes it, and calls `check` with the model at every
    /// cut from the start of `operation` (none of it durable) to its end (all of it applied);
    /// `check` gets the cut's number and whether it is the last one.
    static func forEachCut(
        in base: String, setUp: (LogStore) async throws -> Void = { _ in },
        operation: (LogStore) async throws -> Void,
        check: (_ model: PowerCutModel, _ cut: Int, _ isLast: Bool) async throws -> Void
    ) async throws {
        let dir = base + "/data"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let faults = FaultInjector()
        faults.startJournal()
        let store = try await openStore(dir, faults: faults) { $0.cleanerInterval = nil; $0.flushInterval = .seconds(3600) }
        try await setUp(store)
        let start = faults.journalCount
        try await operation(store)
        let end = faults.journalCount
        let journal = faults.journaledOperations
        try await store.close()
        #expect(end > start, "the operation wrote something to cut")

        var model = PowerCutModel(root: dir)
        for operation in journal[..<start] { model.apply(operation) }
        for cut in start...end {
            if cut > start { model.apply(journal[cut - 1]) }
            try await check(model, cut, cut == end)
        }
    }
}
