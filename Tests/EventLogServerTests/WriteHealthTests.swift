import EventLog
@testable import EventLogServer
import TestSupport
import Testing

/// What `/healthz` reports while appends fail: which failures clear by themselves, and when.
@Suite struct WriteHealthTests {
    let health = WriteHealth(logger: testLogger)

    func fail(_ code: LogError.Code, topic: String = "t", partition: Int = 0) async {
        await #expect(throws: LogError.self) {
            try await health.track(topic: topic, partition: partition) { () async throws -> Int in throw LogError(code, "failed") }
        }
    }

    func succeed(topic: String = "t", partition: Int = 0) async throws {
        _ = try await health.track(topic: topic, partition: partition) { 1 }
    }

    @Test func aFullDiskClearsWithTheNextAppendThatSucceedsAnywhere() async throws {
        await fail(.diskFull)
        #expect(health.currentFailure?.reason == .diskFull)
        try await succeed(topic: "other")
        #expect(health.currentFailure == nil)
    }

    @Test func failingIOClearsOnlyWithThatPartitionsNextAppend() async throws {
        await fail(.ioError, partition: 1)
        try await succeed(partition: 0)
        #expect(health.currentFailure?.reason == .ioError)
        #expect(health.currentFailure?.partition == 1)
        try await succeed(partition: 1)
        #expect(health.currentFailure == nil)
    }

    @Test func aReadOnlyPartitionStaysReportedUntilItsTopicIsDeleted() async throws {
        await fail(.ioError)  // the failed sync itself
        await fail(.readOnly)  // every append after it
        try await succeed(topic: "other")
        #expect(health.currentFailure?.reason == .readOnly)
        health.forget(topic: "t")
        #expect(health.currentFailure == nil)
    }

    @Test func clientErrorsAreNotDiskFailures() async {
        await fail(.recordTooLarge)
        await fail(.invalidArgument)
        #expect(health.currentFailure == nil)
    }
}
