import EventLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A name in a directory and what `lstat(2)` says it is: links are seen, never followed.
struct FileEntry: Sendable {
    enum FileType: Sendable {
        case regular, directory, symlink, other
    }

    var name: String
    var path: String
    var type: FileType
    var size: Int64

    /// What `path` is; `followSymlink` uses `stat(2)` (for PATH itself), else `lstat(2)`.
    static func status(of path: String, followSymlink: Bool) -> Result<FileEntry, DumpError> {
        var st = stat()
        let rc = followSymlink ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else { return .failure(DumpError("cannot read \(path): \(ReadOnlyFile.errorText(errno)).")) }
        let type: FileType
        switch st.st_mode & S_IFMT {
        case S_IFREG: type = .regular
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink
        default: type = .other
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return .success(FileEntry(name: name, path: path, type: type, size: Int64(st.st_size)))
    }

    /// The entries of a directory, sorted by name, without `.` and `..`, each from `lstat(2)`.
    static func list(_ directory: String) throws(DumpError) -> [FileEntry] {
        let names: [String]
        do {
            names = try FileSystem.list(directory)
        } catch {
            let code = (error.cause as? SystemError)?.rawValue ?? EIO
            throw DumpError("cannot read the directory \(directory): \(ReadOnlyFile.errorText(code)).")
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return names.compactMap { name in
            try? status(of: prefix + name, followSymlink: false).get()
        }
    }
}
