import Foundation

/// Runs `body` with the path of a fresh, empty directory of its own, removed with everything
/// in it afterwards, whether `body` returns or throws.
///
/// The directory is made by `mkdtemp(3)` under `NSTemporaryDirectory()` (`$TMPDIR`, else
/// `/tmp`), so two tests never share one.
package func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = try makeTemporaryDirectory()
    defer { removeTemporaryDirectory(path) }
    return try await body(path)
}

/// Makes a fresh, empty directory with `mkdtemp(3)` and returns its path; the caller removes
/// it with ``removeTemporaryDirectory(_:)``. Prefer ``withTemporaryDirectory(_:)``, which
/// cannot forget to.
///
/// - Throws: ``TestSupportError`` when the directory cannot be made.
package func makeTemporaryDirectory() throws -> String {
    var base = NSTemporaryDirectory()
    if !base.hasSuffix("/") { base += "/" }
    var template = Array((base + "eventlog-test-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw TestSupportError("cannot make a temporary directory under \(base): errno \(errno)")
    }
    return String(cString: made)
}

/// Removes a directory made by ``makeTemporaryDirectory()`` and everything in it; a path that
/// is already gone is not an error.
package func removeTemporaryDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}
