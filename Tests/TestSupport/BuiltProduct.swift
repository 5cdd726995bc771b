import Foundation

/// An executable product of this package, as the tests run it: the path in an environment
/// variable when that names an executable, else the one built beside the test bundle
/// (`swift build` puts both in `.build/debug`).
package struct BuiltProduct: Sendable {
    /// The product's name, as `swift build --product` takes it.
    package let name: String
    /// Where it is, or where it was looked for when it is not built.
    package let path: String

    /// The product `name`, or the executable `$variable` names when set.
    package init(_ name: String, overriddenBy variable: String) {
        self.name = name
        // The test bundle sits next to the package's products (…/debug/EventLogPackageTests.xctest).
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [here.appendingPathComponent(name).path]
        if let override = ProcessInfo.processInfo.environment[variable] { candidates.insert(override, at: 0) }
        path = candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    /// The server (`LOGD_BIN`).
    package static var logd: BuiltProduct { BuiltProduct("logd", overriddenBy: "LOGD_BIN") }
    /// The file inspector (`LOG_DUMP_BIN`).
    package static var logDump: BuiltProduct { BuiltProduct("log-dump", overriddenBy: "LOG_DUMP_BIN") }
    /// The kill -9 writer (`EVENTLOG_TORTURE_BIN`).
    package static var torture: BuiltProduct { BuiltProduct("eventlog-torture", overriddenBy: "EVENTLOG_TORTURE_BIN") }

    /// Whether the product is there to run.
    package var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// The path of the product.
    ///
    /// - Throws: ``TestSupportError`` saying how to build it, when it is not built.
    package func requireBuilt() throws -> String {
        guard isBuilt else { throw TestSupportError("build it first: swift build --product \(name) (looked at \(path))") }
        return path
    }
}
