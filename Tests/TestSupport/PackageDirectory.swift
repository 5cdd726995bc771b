import Foundation

/// The package's root directory in the source tree (where `Package.swift` is), for tests
/// that read files of the repository: the README, fuzzing inputs, golden frames.
package let packageDirectory: String = URL(fileURLWithPath: #filePath)  // …/Tests/TestSupport/PackageDirectory.swift
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
