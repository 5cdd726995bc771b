// swift-tools-version: 6.0
// An order service that embeds EventLog: orders appended to a topic, a projection that reads
// them with a consumer group and keeps each customer's total in a compacted topic.
import PackageDescription

let package = Package(
    name: "OrderService",
    dependencies: [
        .package(name: "EventLog", path: "../../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "order-service",
            dependencies: [
                .product(name: "EventLog", package: "EventLog"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
