// swift-tools-version: 6.0
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Linux only: the engine calls fdatasync(2), sync_file_range(2), pwritev(2) and Glibc
// directly (every such file says so with an #error elsewhere); no other platform is built or tested.
let package = Package(
    name: "EventLog",
    products: [
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "EventLogServer", targets: ["EventLogServer"]),
        .executable(name: "logd", targets: ["logd"]),
        .executable(name: "log-dump", targets: ["log-dump"]),
        .library(name: "EventLogClient", targets: ["EventLogClient"]),
        .executable(name: "logctl", targets: ["logctl"]),
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .executable(name: "log-mirror", targets: ["log-mirror"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        // TLS (with ALPN) and HTTP/2 for logd's HTTP listener; NIOHTTPTypes, with which the live
        // fan-out writes body parts into streams' connections (Streaming/LiveFanout.swift).
        // Already dependencies of Hummingbird.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.6.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.0"),
        // Already a dependency of jwt-kit; named here for SHA-256 (Idempotency-Key fingerprints).
        .package(url: "https://github.com/apple/swift-crypto.git", "4.1.0"..<"6.0.0"),
        // The HTTP client of EventLogClient (and so of logctl).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
    ],
    targets: [
        // C: CRC32C (SSE4.2 with a slicing-by-8 fallback) and the system compression libraries.
        .target(name: "CCRC32C"),
        .target(name: "CSysShims"),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // A `Mutex` over `pthread_mutex_t` for ThreadSanitizer builds (`-DTSAN_LOCKS`, `make
        // sanitize`): the modules that lock with `Synchronization.Mutex` use it instead there.
        // Empty in every other build.
        .target(name: "SanitizerLocks", swiftSettings: strictSwift),

        // The storage engine: no Foundation, no NIO.
        .target(
            name: "EventLog",
            dependencies: [
                "CCRC32C", "CLZ4", "CZstd", "CSysShims", "SanitizerLocks",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),

        // A strict JSON parser, shared by the server and log-dump (which write records alike).
        .target(name: "EventLogJSON", swiftSettings: strictSwift),

        // The only module that knows HTTP.
        .target(
            name: "EventLogServer",
            dependencies: [
                "EventLog", "CZlib", "CSysShims", "EventLogJSON", "SanitizerLocks",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP2", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "logd",
            dependencies: [
                "EventLogServer", "EventLogKafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "log-dump",
            dependencies: [
                "EventLog", "EventLogJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/log-dump",
            swiftSettings: strictSwift
        ),
        // A client of logd's HTTP API for services that do not embed the store: no dependency on
        // the storage engine.
        .target(
            name: "EventLogClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "logctl",
            dependencies: [
                "EventLogClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        // Kafka's wire protocol (Docs/KAFKA.md): codecs generated from Kafka's message specs by
        // Tools/kafka-codegen, framing, ApiVersions, record batch checks; no networking, no engine.
        .target(
            name: "KafkaProtocol",
            dependencies: ["CCRC32C"],
            swiftSettings: strictSwift
        ),
        // The Kafka listener of logd (Docs/KAFKA.md): KafkaProtocol over SwiftNIO on the store.
        .target(
            name: "EventLogKafka",
            dependencies: [
                "EventLog", "KafkaProtocol", "SanitizerLocks",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        // A small blocking Kafka client over KafkaProtocol's codecs (Docs/SCALING.md): version
        // negotiation, SASL/PLAIN, metadata, leaders and coordinators; no NIO, no engine.
        .target(
            name: "KafkaClient",
            dependencies: ["KafkaProtocol"],
            swiftSettings: strictSwift
        ),
        // Copies topics from logd's Kafka listener to any Kafka broker (Docs/SCALING.md).
        .executableTarget(
            name: "log-mirror",
            dependencies: [
                "KafkaClient", "KafkaProtocol", "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/log-mirror",
            swiftSettings: strictSwift
        ),
        // The HTTP/2 + TLS SSE subscribers of `make bench-server` (Tools/bench-server/bench_server.py,
        // --h2-client native): SwiftNIO, so that the benchmark's client costs little CPU per
        // delivery and measures the servers, not itself. No dependency on the project's modules;
        // a target here (not a package of its own) so that `make test` builds it in seconds and
        // runs its end-to-end tests.
        .executableTarget(
            name: "h2-subscribers",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/bench-server/h2-subscribers",
            swiftSettings: strictSwift
        ),
        // A writer process for the kill -9 tests: appends with fsync durability and reports acknowledgements.
        .executableTarget(
            name: "eventlog-torture",
            dependencies: [
                "EventLog",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/eventlog-torture",
            swiftSettings: strictSwift
        ),

        // Fuzzing (Tools/fuzz/README.md): the targets as a library, so the tests replay every
        // input the fuzzer found; the driver links libFuzzer only when built with -DFUZZING.
        .target(
            name: "EventLogFuzzTargets",
            dependencies: [
                "EventLog", "KafkaProtocol", "EventLogServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/fuzz/Targets",
            swiftSettings: strictSwift
        ),
        .target(name: "CFuzzer", path: "Tools/fuzz/CFuzzer"),
        .executableTarget(
            name: "eventlog-fuzz",
            dependencies: ["EventLogFuzzTargets", "CFuzzer"],
            path: "Tools/fuzz/Driver",
            swiftSettings: strictSwift
        ),

        // What the test targets share: temporary directories, a live `logd`, store and process
        // fixtures. Not a product: only test targets depend on it.
        .target(
            name: "TestSupport",
            dependencies: [
                "EventLog",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "CCRC32C", "TestSupport", "SanitizerLocks"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EventLogServerTests",
            dependencies: [
                "EventLogServer", "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["EventLogFuzzTargets", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EventLogClientTests",
            dependencies: ["EventLogClient", "TestSupport", "SanitizerLocks"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: ["KafkaProtocol", "TestSupport"],
            exclude: ["Golden"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EventLogKafkaTests",
            dependencies: [
                "EventLogKafka", "EventLog", "KafkaProtocol", "TestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "LogDumpTests",
            dependencies: ["EventLog", "TestSupport"],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
