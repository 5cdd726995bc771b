import EventLogJSON
import EventLog

/// The settings a `PUT /v1/topics/{topic}` or `PATCH /v1/topics/{topic}/config` body gives; each is `nil` when not given.
struct TopicSettings {
    var partitions: Int?
    var cleanupPolicy: CleanupPolicy?
    var retentionMs: Int64?
    var retentionBytes: Int64?
    var segmentBytes: Int64?
    var compression: CompressionCodec?
    var durability: Durability?

    /// The periods `durability_interval_ms` may name: a millisecond to a day.
    static let intervalMilliseconds: ClosedRange<Int64> = 1...86_400_000

    /// Parses a body; an empty body gives no settings. Throws `400 invalid_json` or `invalid_config`.
    init(body: [UInt8]) throws {
        guard body.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return }
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw APIError(.invalidJSON, "The body is not valid JSON: \(error).")
        }
        guard case .object(let members) = document else {
            throw APIError(.invalidConfig, "The body must be a JSON object of topic settings.")
        }
        var intervalMs: Int64?
        for member in members {
            let value = member.value
            func integer(in range: ClosedRange<Int64>) throws -> Int64 {
                guard let int = value.integer(in: range) else {
                    throw APIError(.invalidConfig, range.upperBound == .max
                        ? "\(member.name) must be an integer of at least \(range.lowerBound)."
                        : "\(member.name) must be an integer from \(range.lowerBound) to \(range.upperBound).")
                }
                return int
            }
            func string() throws -> String {
                guard let string = value.stringValue else { throw APIError(.invalidConfig, "\(member.name) must be a string.") }
                return string
            }
            switch member.name {
            case "partitions":
                partitions = Int(try integer(in: 1...10_000))
            case "cleanup_policy":
                guard let policy = CleanupPolicy(name: try string()) else {
                    throw APIError(.invalidConfig, "cleanup_policy must be delete, compact or compact,delete.")
                }
                cleanupPolicy = policy
            case "retention_ms": retentionMs = try integer(in: -1...Int64.max)
            case "retention_bytes": retentionBytes = try integer(in: -1...Int64.max)
            case "segment_bytes": segmentBytes = try integer(in: 1...Int64.max)
            case "compression":
                guard let codec = CompressionCodec(name: try string()) else {
                    throw APIError(.invalidConfig, "compression must be none, lz4 or zstd.")
                }
                compression = codec
            case "durability":
                // The library's one parser of durability text (`interval` alone: every second).
                guard let parsed = Durability(parsing: try string()) else {
                    throw APIError(.invalidConfig, "durability must be fsync, interval or none.")
                }
                durability = parsed
            case "durability_interval_ms":
                intervalMs = try integer(in: Self.intervalMilliseconds)
            default:
                throw APIError(.invalidConfig, "Unknown topic setting \(member.name).")
            }
        }
        if let intervalMs {
            guard case .interval = durability else {
                throw APIError(.invalidConfig, "durability_interval_ms needs \"durability\": \"interval\".")
            }
            durability = .interval(.milliseconds(intervalMs))
        }
        if case .interval(let period)? = durability, !Self.intervalMilliseconds.contains(period.wholeMilliseconds) {
            throw APIError(.invalidConfig, "The durability interval must be from 1 to 86400000 milliseconds.")
        }
    }

    /// Writes the given settings over `configuration`.
    func apply(to configuration: inout TopicConfiguration) {
        if let partitions { configuration.partitions = partitions }
        if let cleanupPolicy { configuration.cleanupPolicy = cleanupPolicy }
        if let retentionMs { configuration.retention = retentionMs == -1 ? nil : .milliseconds(retentionMs) }
        if let retentionBytes { configuration.retentionBytes = retentionBytes }
        if let segmentBytes { configuration.segmentBytes = segmentBytes }
        if let compression { configuration.compression = compression }
        if let durability { configuration.durability = durability }
    }

    /// The name of the first given setting that differs from `configuration`, or `nil`.
    func firstDifference(from configuration: TopicConfiguration) -> String? {
        if let partitions, partitions != configuration.partitions { return "partitions" }
        if let cleanupPolicy, cleanupPolicy != configuration.cleanupPolicy { return "cleanup_policy" }
        if let retentionMs, retentionMs != configuration.retention?.wholeMilliseconds ?? -1 { return "retention_ms" }
        if let retentionBytes, retentionBytes != configuration.retentionBytes { return "retention_bytes" }
        if let segmentBytes, segmentBytes != configuration.segmentBytes { return "segment_bytes" }
        if let compression, compression != configuration.compression { return "compression" }
        if let durability {
            switch (durability, configuration.durability) {
            case (.interval, .interval) where durability != configuration.durability:
                return "durability_interval_ms"
            default:
                if durability.name != configuration.durability.name { return "durability" }
            }
        }
        return nil
    }
}

/// The JSON form of a topic: `{"name", "config", "partitions": [...]}`.
enum TopicDescription {
    static func write(_ topic: Topic, to json: inout JSONWriter) {
        let configuration = topic.configuration
        json.beginObject()
        json.key("name"); json.string(topic.name)
        json.key("config")
        json.beginObject()
        json.key("partitions"); json.int(configuration.partitions)
        json.key("cleanup_policy"); json.string(configuration.cleanupPolicy.description)
        json.key("retention_ms"); json.int(configuration.retention?.wholeMilliseconds ?? -1)
        json.key("retention_bytes"); json.int(configuration.retentionBytes)
        json.key("segment_bytes"); json.int(configuration.segmentBytes)
        json.key("compression"); json.string(configuration.compression.description)
        json.key("durability"); json.string(configuration.durability.name)
        if case .interval(let period) = configuration.durability {
            json.key("durability_interval_ms"); json.int(period.wholeMilliseconds)
        }
        json.endObject()
        json.key("partitions")
        json.beginArray()
        for partition in topic.partitions {
            json.beginObject()
            json.key("partition"); json.int(partition.index)
            json.key("start_offset"); json.int(partition.startOffset.rawValue)
            json.key("end_offset"); json.int(partition.endOffset.rawValue)
            json.key("size_bytes"); json.int(partition.sizeInBytes)
            json.key("segments"); json.int(partition.segmentCount)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }
}
