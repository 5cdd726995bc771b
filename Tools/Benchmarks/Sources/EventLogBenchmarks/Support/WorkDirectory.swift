#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif
import Foundation

/// The run's scratch directory (`mkdtemp(3)` under a parent), removed with everything in it at the end.
final class WorkDirectory {
    /// The directory's path.
    let path: String
    private var removed = false

    /// Creates `<parent>/eventlog-bench-XXXXXX`.
    init(parent: String) throws {
        var template = Array((parent + "/eventlog-bench-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw BenchmarkError("cannot create a scratch directory under \(parent): errno \(errno)") }
        path = String(cString: template.map { UInt8(bitPattern: $0) })
    }

    /// A fresh, empty subdirectory for one scenario.
    func fresh(_ name: String) throws -> String {
        let dir = path + "/" + name
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Removes a scenario's subdirectory (its data is not needed any more).
    func discard(_ dir: String) {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Removes the whole scratch directory.
    func remove() {
        guard !removed else { return }
        removed = true
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { remove() }

    /// Every regular file under `dir`, recursively.
    static func files(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let p = dir + "/" + rel
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue { out.append(p) }
        }
        return out.sorted()
    }

    /// The total size of the regular files under `dir` (only those whose names end with `suffix`, when given).
    static func size(of dir: String, matching suffix: String? = nil) -> Int64 {
        files(under: dir).filter { suffix == nil || $0.hasSuffix(suffix!) }.reduce(0) { total, f in
            var st = stat()
            return total + (stat(f, &st) == 0 ? Int64(st.st_size) : 0)
        }
    }
}

/// A failure of the benchmark harness itself (not of the library under test).
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
