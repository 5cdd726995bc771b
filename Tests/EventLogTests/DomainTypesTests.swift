import Testing
@testable import EventLog

/// Offsets, durations and durability text: the domain types of the public API.
@Suite struct DomainTypesTests {
    @Test func offsetArithmeticReadsAsOnIntegers() {
        let offset: Offset = 17
        let next = offset + 1
        let previous = offset - 1
        #expect(next == Offset(18) && previous == Offset(16))
        let distance: Int64 = next - previous
        #expect(distance == 2)
        var moving = offset
        moving += 3
        moving -= 1
        #expect(moving == 19)
        #expect(OffsetRange(first: 5, end: 9).count == 4 && OffsetRange(first: 5, end: 9).last == 8)
    }

    // MARK: Durability: one text, one parser

    @Test(arguments: [Durability.fsync, .none, .interval(.milliseconds(1)), .interval(.milliseconds(250)),
                      .interval(.seconds(1)), .interval(.seconds(86_400)), .interval(.milliseconds(Int64.max))])
    func durabilityPrintsWhatItsParserReads(durability: Durability) throws {
        try TopicConfiguration(durability: durability).validate()
        #expect(Durability(durability.description) == durability, "\(durability)")
        #expect(Durability(parsing: Substring(durability.description)) == durability)
    }

    @Test func durabilityForms() {
        #expect(Durability(parsing: "fsync") == .fsync)
        #expect(Durability(parsing: "none") == Durability.none)
        #expect(Durability(parsing: "interval") == .interval(Durability.defaultInterval))
        #expect(Durability(parsing: "interval:250") == .interval(.milliseconds(250)))
        #expect(Durability.interval(.milliseconds(250)).description == "interval:250")
    }

    @Test(arguments: ["", "FSYNC", "fsync ", " none", "interval:", "interval:0", "interval:-5", "interval:01", "interval:+5",
                      "interval:1.5", "interval:99999999999999999999", "interval(1000ms)", "interval=5", "sync"])
    func malformedDurabilityIsRefused(text: String) {
        #expect(Durability(parsing: text) == nil)
    }

    @Test func intervalsFinerThanAMillisecondAreRefused() {
        for period in [Duration.microseconds(1500), .zero, .milliseconds(-1)] {
            #expect(throws: LogError.self) { try TopicConfiguration(durability: .interval(period)).validate() }
        }
    }

    // MARK: TopicConfiguration's durations and topic.conf

    @Test func durationsRoundTripThroughTopicConf() throws {
        var configuration = TopicConfiguration(partitions: 4, durability: .interval(.milliseconds(750)), cleanupPolicy: [.compact, .delete],
                                               retention: .seconds(3600), retentionBytes: 1 << 30, segmentBytes: 1 << 20)
        configuration.maxSegmentAge = .seconds(600)
        configuration.deleteRetention = .milliseconds(1234)
        configuration.minCompactionLag = .seconds(5)
        configuration.maxCompactionLag = .seconds(60)
        let reread = try TopicConfiguration(file: configuration.encodedFile(), path: "topic.conf")
        #expect(reread == configuration)
        #expect(reread.retention == .seconds(3600) && reread.maxCompactionLag == .seconds(60))
        // Spans keep whole milliseconds.
        configuration.retention = .microseconds(2500)
        #expect(configuration.retention == .milliseconds(2))
    }

    /// A topic.conf written before durations were typed still reads, with the same meaning.
    @Test func existingTopicConfFilesStillRead() throws {
        let file = """
            format=1
            partitions=3
            compression=lz4
            durability=interval:50
            cleanup_policy=compact,delete
            retention_ms=-1
            retention_bytes=-1
            segment_bytes=1073741824
            segment_ms=604800000
            index_interval_bytes=4096
            delete_retention_ms=86400000
            min_compaction_lag_ms=0
            max_compaction_lag_ms=9223372036854775807
            min_cleanable_dirty_ratio=0.5
            max_batch_bytes=16777216
            internal=false

            """
        let configuration = try TopicConfiguration(file: Array(file.utf8), path: "topic.conf")
        #expect(configuration.durability == .interval(.milliseconds(50)))
        #expect(configuration.retention == nil && configuration.maxCompactionLag == nil)
        #expect(configuration.maxSegmentAge == .seconds(7 * 24 * 3600) && configuration.deleteRetention == .seconds(86_400))
        #expect(configuration.minCompactionLag == .zero)
        #expect(configuration.encodedFile() == Array(file.utf8), "written back byte for byte")
    }
}
