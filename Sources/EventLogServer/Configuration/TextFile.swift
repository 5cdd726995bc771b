#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small text files of the operator's: a configuration file, a secret, a public key.
enum TextFile {
    /// The most bytes read; the rest of a larger file is ignored.
    static let limit = 1 << 20

    /// The file's text (at most ``limit`` bytes), without its trailing line breaks.
    ///
    /// - Throws: ``ConfigurationError`` naming the file and the system's reason (`fopen(3)`).
    static func read(_ path: String) throws(ConfigurationError) -> String {
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
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
