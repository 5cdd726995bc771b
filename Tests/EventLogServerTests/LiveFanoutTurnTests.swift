import EventLog
@testable import EventLogServer
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing

/// A loop writes a hub's step to its members in turns (``FanoutHub/LoopStep/writeTurn(from:)``):
/// a step of events ``FanoutHub/membersPerTurn`` members at a time, so that a publisher's next
/// request is served between turns; a keepalive, which is not latency sensitive and goes to every
/// idle stream at once, ``FanoutHub/keepaliveMembersPerTurn`` at a time, so that each turn's cost
/// to the loop (a timer and a poll of its sockets) is shared by more writes. A loop's members are
/// kept as a roster between steps, made again when one joins or leaves.
@Suite struct LiveFanoutTurnTests {
    /// `count` HTTP/1.1 members on `loop`, each written below its response encoder.
    func members(_ count: Int, on loop: EmbeddedEventLoop) throws -> [(FanoutHub.Target, EmbeddedChannel)] {
        try (0..<count).map { i in
            let channel = EmbeddedChannel(handler: HTTPResponseEncoder(), loop: loop)
            let writer = FanoutHub.Writer(channel: channel)
            guard case .chunks = writer else { throw TestFailure("member \(i) is not written below its encoder") }
            try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 80)).wait()  // active, as a stream's connection is
            return (FanoutHub.Target(FanoutHub.Member(id: UInt64(i), channel: channel, writer: writer, resume: { _ in })), channel)
        }
    }

    /// What the loop reported: the step's end, the members evicted.
    final class Reports: Sendable {
        let done = Atomic(0)
        let ended = Atomic(false)
        // NIO's lock, not `Synchronization.Mutex`: the ThreadSanitizer build (`-DTSAN_LOCKS`)
        // makes a bare `Mutex` ambiguous in this module.
        let evicted = NIOLockedValueBox<[UInt64]>([])
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The bytes each channel has been written, in order.
    func written(_ channels: [EmbeddedChannel]) throws -> [[UInt8]] {
        try channels.map { channel in
            var bytes: [UInt8] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
            return bytes
        }
    }

    /// Writes `step` to `members` on `loop`, turn by turn, and returns how many members had been
    /// written to after each turn.
    func turns(_ step: FanoutHub.StepBytes, _ members: [(FanoutHub.Target, EmbeddedChannel)], on loop: EmbeddedEventLoop) throws -> [Int] {
        let reports = Reports()
        write(step, to: members.map(\.0), on: loop, reports).writeTurn(from: 0)
        var counts: [Int] = []
        var reached = 0
        for _ in 0..<members.count + 1 {
            reached += try written(members.map(\.1)).count { !$0.isEmpty }
            counts.append(reached)
            if reports.done.load(ordering: .relaxed) > 0 { break }
            loop.advanceTime(by: FanoutHub.turnGap)
        }
        #expect(reports.done.load(ordering: .relaxed) == 1, "the loop finished the step once")
        #expect(reports.evicted.withLockedValue { $0 }.isEmpty)
        return counts
    }

    /// The writes of `step` to `roster` on `loop`, reporting to `reports`.
    func write(_ step: FanoutHub.StepBytes, to roster: FanoutHub.Roster, on loop: EmbeddedEventLoop, _ reports: Reports,
               then next: @escaping @Sendable () -> Void = {}) -> FanoutHub.LoopStep {
        FanoutHub.LoopStep(roster, step, on: loop, ended: { reports.ended.load(ordering: .relaxed) },
                           evict: { member in reports.evicted.withLockedValue { $0.append(member.id) } },
                           done: {
                               reports.done.add(1, ordering: .relaxed)
                               next()
                           })
    }

    @Test("a keepalive goes out in turns of keepaliveMembersPerTurn, events in turns of membersPerTurn")
    func keepaliveTurnsAreLarger() throws {
        let loop = EmbeddedEventLoop()
        let members = try members(300, on: loop)
        defer { for (_, channel) in members { _ = try? channel.finish() } }
        let position = TopicPosition(nextOffsets: [0])

        let keepalive = try turns(.keepalive(Array(": keepalive\n\n".utf8), at: position), members, on: loop)
        let big = FanoutHub.keepaliveMembersPerTurn
        #expect(keepalive == Array(stride(from: big, to: 300, by: big)) + [300])

        let events = try turns(.events(Array("id: 0-1\ndata: {}\n\n".utf8), from: position), members, on: loop)
        let small = FanoutHub.membersPerTurn
        #expect(events == Array(stride(from: small, to: 300, by: small)) + [300])
        #expect(big > small)
    }

    @Test("every member gets the keepalive and the events after it, in order, each as one chunk")
    func keepaliveAndEventsReachEveryMemberInOrder() throws {
        let loop = EmbeddedEventLoop()
        let members = try members(200, on: loop)
        defer { for (_, channel) in members { _ = try? channel.finish() } }
        let position = TopicPosition(nextOffsets: [0])
        let keepalive = Array(": keepalive\n\n".utf8)
        let event = Array("id: 0-1\ndata: {\"value\":1}\n\n".utf8)
        let roster = members.map(\.0)
        let events = write(.events(event, from: position), to: roster, on: loop, Reports())
        // As the hub does: the next step once every member has this one.
        write(.keepalive(keepalive, at: position), to: roster, on: loop, Reports(), then: { events.writeTurn(from: 0) }).writeTurn(from: 0)
        loop.advanceTime(by: .milliseconds(10))
        let expected = Array(FanoutHub.chunk(keepalive).readableBytesView) + Array(FanoutHub.chunk(event).readableBytesView)
        for bytes in try written(members.map(\.1)) { #expect(bytes == expected) }
    }

    @Test("a member that cannot take more is evicted once and not written, in a keepalive's turn too")
    func unwritableMemberIsEvicted() throws {
        let loop = EmbeddedEventLoop()
        let members = try members(150, on: loop)
        defer { for (_, channel) in members { _ = try? channel.finish() } }
        members[140].1.isWritable = false
        let reports = Reports()
        write(.keepalive(Array(": keepalive\n\n".utf8), at: TopicPosition(nextOffsets: [0])), to: members.map(\.0), on: loop, reports)
            .writeTurn(from: 0)
        loop.advanceTime(by: .milliseconds(10))
        #expect(reports.evicted.withLockedValue { $0 } == [140])
        #expect(reports.done.load(ordering: .relaxed) == 1)
        let written = try written(members.map(\.1))
        #expect(written.enumerated().allSatisfy { $0.offset == 140 ? $0.element.isEmpty : !$0.element.isEmpty })
    }

    @Test("a turn that starts after the hub ended writes nothing, and the loop reports the step done once")
    func noTurnAfterTheEnd() throws {
        let loop = EmbeddedEventLoop()
        let members = try members(300, on: loop)
        defer { for (_, channel) in members { _ = try? channel.finish() } }
        let reports = Reports()
        write(.keepalive(Array(": keepalive\n\n".utf8), at: TopicPosition(nextOffsets: [0])), to: members.map(\.0), on: loop, reports)
            .writeTurn(from: 0)
        // The hub ends (a stop, from elsewhere) after the first turn: its members are handed back
        // on their loop, and nothing may follow their streams' ends.
        reports.ended.store(true, ordering: .relaxed)
        loop.advanceTime(by: .milliseconds(10))
        #expect(reports.done.load(ordering: .relaxed) == 1)
        let reached = try written(members.map(\.1)).count { !$0.isEmpty }
        #expect(reached == FanoutHub.keepaliveMembersPerTurn)
    }

    @Test("a loop's roster is kept between steps and made again when a member joins or leaves")
    func rosterFollowsJoinsAndLeaves() throws {
        let loop = EmbeddedEventLoop()
        let members = try members(5, on: loop)
        defer { for (_, channel) in members { _ = try? channel.finish() } }
        var group = FanoutHub.LoopMembers(loop: loop)
        func ids(_ roster: FanoutHub.Roster) -> Set<UInt64> { Set(roster.map(\.member.id)) }
        for (target, _) in members[0..<3] { group.add(target.member) }
        let first = group.currentRoster()
        #expect(ids(first) == [0, 1, 2])
        // Kept: the same storage, not a copy per step.
        let again = group.currentRoster()
        #expect(first.withUnsafeBufferPointer { $0.baseAddress } == again.withUnsafeBufferPointer { $0.baseAddress })
        group.add(members[3].0.member)
        #expect(ids(group.currentRoster()) == [0, 1, 2, 3])
        _ = group.remove(1)
        #expect(ids(group.currentRoster()) == [0, 2, 3])
        #expect(group.remove(1) == nil)
        group.add(members[4].0.member)
        _ = group.remove(0)
        #expect(ids(group.currentRoster()) == [2, 3, 4])
    }
}
