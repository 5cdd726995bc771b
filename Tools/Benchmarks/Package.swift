// swift-tools-version: 6.0
// The benchmark suite: a nested package, so that its dependencies (GRDB for the SQLite
// baseline) stay out of the library's build. Run from the repository root with `make bench`.
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "EventLogBenchmarks",
    products: [
        .executable(name: "eventlog-bench", targets: ["eventlog-bench"]),
    ],
    dependencies: [
        .package(name: "EventLog", path: "../.."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // The scenarios, their baselines and the results table.
        .target(
            name: "EventLogBenchmarks",
            dependencies: [
                .product(name: "EventLog", package: "EventLog"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // @main: flags and wiring only.
        .executableTarget(
            name: "eventlog-bench",
            dependencies: [
                "EventLogBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
