#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Small files of the operator's: a configuration file, a secret, a public key, a TLS certificate and key.
enum TextFile {
    /// The most bytes read; the rest of a larger file is ignored.
    static let limit = 1 << 20

    /// The file's text (at most ``limit`` bytes), without its trailing line breaks.
    ///
    /// - Throws: ``ConfigurationError`` naming the file and the system's reason (`fopen(3)`).
    static func read(_ path: String) throws(ConfigurationError) -> String {
        var bytes = try self.bytes(path)
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The file's bytes as they are (at most ``limit``): a PEM certificate or key.
    ///
    /// - Throws: ``ConfigurationError`` naming the file and the system's reason (`fopen(3)`).
    static func bytes(_ path: String) throws(ConfigurationError) -> [UInt8] {
        guard let file = fopen(path, "r") else {
            throw ConfigurationError("cannot read \(path): \(String(cString: strerror(errno))).")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[..<min(n, limit - bytes.count)]
        }
        if ferror(file) != 0 {
            throw ConfigurationError("cannot read \(path): \(String(cString: strerror(errno))).")
        }
        return bytes
    }
}
