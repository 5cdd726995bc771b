import ArgumentParser
import KafkaClient

#if canImport(Glibc)
import Glibc
#else
#error("log-mirror builds on Linux only.")
#endif

/// `log-mirror --source HOST:PORT --target HOST:PORT [--topic T]…`: copies topics, continuously,
/// from one Kafka-protocol broker (logd's Kafka listener) to another (a Kafka cluster, or another
/// logd). See Docs/SCALING.md.
///
/// Exit status: 0 after SIGTERM/SIGINT or `--until-caught-up`, 1 for an error retrying cannot
/// fix, 64 for a usage error.
@main
struct LogMirror: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-mirror",
        abstract: "Copy topics continuously from logd (or any Kafka broker) to a Kafka cluster or another logd.",
        discussion: """
            Reads from the source's Kafka listener, writes to the target with an idempotent producer \
            (InitProducerId and sequences) and commits its position to the source, in its own consumer \
            group (--group), after the target acknowledged each batch. Keys, values, headers and \
            timestamps are kept; where the partition counts match, every batch goes to the partition \
            of the same index byte for byte (so offsets match too when the target topic starts empty \
            and the mirror starts from earliest), else records are spread by key as a Kafka producer \
            does (murmur2).

            Restarted after a kill -9, it resumes from its committed offsets: nothing is lost, and at \
            most the one batch per partition written but not committed is written again; those \
            duplicates are counted and reported. Broken connections and broker restarts are retried \
            on their own. Standard output gets a JSON status line (lag per partition) every \
            --status-interval seconds and on exit; standard error gets one-line notes.

            Passwords come from the environment: LOG_MIRROR_SOURCE_PASSWORD and \
            LOG_MIRROR_TARGET_PASSWORD (SASL/PLAIN, with --source-user and --target-user).

            Examples:
              log-mirror --source 127.0.0.1:9092 --target kafka-1:9092,kafka-2:9092 \\
                --topic orders --topic payments
              log-mirror --source 127.0.0.1:9092 --target 10.0.0.7:9092 --all-topics
              log-mirror --source 127.0.0.1:9092 --target kafka-1:9092 --topic orders \\
                --until-caught-up
              LOG_MIRROR_SOURCE_PASSWORD=$TOKEN log-mirror --source-user mirror \\
                --source logd:9092 --target kafka-1:9092 --topic orders
            """)

    @Option(help: ArgumentHelp("The source's bootstrap brokers: logd's --kafka-listen address, or any Kafka broker.", valueName: "host:port[,host:port…]"))
    var source: String

    @Option(help: ArgumentHelp("The target's bootstrap brokers: a Kafka cluster, or another logd's Kafka listener.", valueName: "host:port[,host:port…]"))
    var target: String

    @Option(name: .customLong("topic"), help: "A topic to mirror (repeat for several). Its name is the same on the target.")
    var topics: [String] = []

    @Flag(help: "Mirror every topic of the source that is not internal (known when it starts).")
    var allTopics = false

    @Option(help: "The mirror's consumer group on the source, where its offsets are committed. Give each mirror its own.")
    var group = "log-mirror"

    @Option(help: "Where a partition without a committed offset starts: earliest or latest.")
    var start: String = "earliest"

    @Option(help: "auto (source where the partition counts match, else key), source (same partition index; counts must match) or key (murmur2 of the key).")
    var partitioning: String = "auto"

    @Option(help: "The most bytes one Fetch returns (the memory a round holds).")
    var fetchMaxBytes = 4 << 20

    @Option(help: "The most bytes one Fetch returns per partition (at least one whole batch is always returned).")
    var partitionMaxBytes = 1 << 20

    @Option(help: "How long a Fetch waits at the source for new records, in milliseconds.")
    var fetchWaitMs = 500

    @Option(help: "How long any request (or connection) may take before it is retried, in milliseconds.")
    var timeoutMs = 10_000

    @Option(help: "Seconds between JSON status lines on standard output (0: only on exit).")
    var statusInterval = 10.0

    @Flag(help: "Exit 0 once every partition is mirrored and committed up to the source's end (a final drain before a cutover).")
    var untilCaughtUp = false

    @Option(help: "Partitions for a topic the target lacks, where it offers CreateTopics (default: the source's count).")
    var createPartitions: Int?

    @Option(help: "Replication factor for a topic created on the target (-1: the target's default).")
    var replicationFactor: Int16 = -1

    @Option(help: "SASL/PLAIN user for the source (password in LOG_MIRROR_SOURCE_PASSWORD).")
    var sourceUser: String?

    @Option(help: "SASL/PLAIN user for the target (password in LOG_MIRROR_TARGET_PASSWORD).")
    var targetUser: String?

    @Option(help: "The client id sent to both sides.")
    var clientId = "log-mirror"

    func validate() throws {
        guard BrokerAddress.list(source) != nil else { throw ValidationError("--source: \(source) is not a list of host:port.") }
        guard BrokerAddress.list(target) != nil else { throw ValidationError("--target: \(target) is not a list of host:port.") }
        guard topics.isEmpty == allTopics else { throw ValidationError("give either --topic (one or more) or --all-topics.") }
        guard MirrorSettings.Start(rawValue: start) != nil else { throw ValidationError("--start: earliest or latest, not \(start).") }
        guard MirrorSettings.Partitioning(rawValue: partitioning) != nil else {
            throw ValidationError("--partitioning: auto, source or key, not \(partitioning).")
        }
        guard !group.isEmpty, group.utf8.count <= 249 else { throw ValidationError("--group: 1 to 249 bytes.") }
        guard (1024...(256 << 20)).contains(fetchMaxBytes) else { throw ValidationError("--fetch-max-bytes: 1024 to 268435456.") }
        guard (1024...fetchMaxBytes).contains(partitionMaxBytes) else { throw ValidationError("--partition-max-bytes: 1024 to --fetch-max-bytes.") }
        guard (0...60_000).contains(fetchWaitMs) else { throw ValidationError("--fetch-wait-ms: 0 to 60000.") }
        guard (100...600_000).contains(timeoutMs) else { throw ValidationError("--timeout-ms: 100 to 600000.") }
        guard statusInterval >= 0, statusInterval <= 86_400 else { throw ValidationError("--status-interval: 0 to 86400 seconds.") }
        if let createPartitions, !(1...100_000).contains(createPartitions) { throw ValidationError("--create-partitions: 1 to 100000.") }
        guard replicationFactor == -1 || (1...32).contains(replicationFactor) else { throw ValidationError("--replication-factor: -1 or 1 to 32.") }
        for topic in topics where topic.isEmpty || topic.utf8.count > 249 { throw ValidationError("--topic: 1 to 249 bytes.") }
        if sourceUser != nil, Self.environment("LOG_MIRROR_SOURCE_PASSWORD") == nil {
            throw ValidationError("--source-user needs LOG_MIRROR_SOURCE_PASSWORD in the environment.")
        }
        if targetUser != nil, Self.environment("LOG_MIRROR_TARGET_PASSWORD") == nil {
            throw ValidationError("--target-user needs LOG_MIRROR_TARGET_PASSWORD in the environment.")
        }
    }

    func run() throws {
        let settings = MirrorSettings(
            source: BrokerAddress.list(source)!, target: BrokerAddress.list(target)!,
            topics: allTopics ? nil : topics, group: group,
            start: MirrorSettings.Start(rawValue: start)!, partitioning: MirrorSettings.Partitioning(rawValue: partitioning)!,
            fetchMaxBytes: fetchMaxBytes, partitionMaxBytes: partitionMaxBytes, fetchWaitMs: fetchWaitMs, timeoutMs: timeoutMs,
            statusIntervalMs: Int(statusInterval * 1000), untilCaughtUp: untilCaughtUp,
            createPartitions: createPartitions, replicationFactor: replicationFactor,
            sourceCredentials: sourceUser.map { SASLPlainCredentials(user: $0, password: Self.environment("LOG_MIRROR_SOURCE_PASSWORD") ?? "") },
            targetCredentials: targetUser.map { SASLPlainCredentials(user: $0, password: Self.environment("LOG_MIRROR_TARGET_PASSWORD") ?? "") },
            clientId: clientId,
            faultKillAfterAcks: Self.environment("LOG_MIRROR_FAULT_KILL_AFTER_ACKS").flatMap { Int($0) })
        StopSignal.install()
        do {
            try Mirror(settings: settings).run()
        } catch {
            // One sentence, no stack trace.
            let line = "log-mirror: error: \(error)\n"
            StatusReporter.writeError(line)
            throw ExitCode(1)
        }
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
