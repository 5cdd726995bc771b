import CSysShims
import EventLog
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOHTTPTypes
import Synchronization

/// Live fan-out of event streams (Docs/adr/0003-live-fanout.md): the plain SSE streams of a
/// topic that have caught up with its end are written to by one task per topic, which reads
/// and encodes each event once (with its `id:`, the same for every stream at the end) and
/// writes the same bytes into every stream's connection from the connection's own event loop.
/// A stream in the hub costs no task wake-up, no timer and no read per event: its request's
/// task sleeps until the hub hands it back, or, over the server's own HTTP/1.1 layer, has
/// ended and the hand-back resumes the answer in a new task (Docs/adr/0005-http1-connection.md).
///
/// A stream joins only at the hub's exact position (``FanoutHub/join(at:channel:_:)``), so
/// it never misses or repeats an event; the hub hands it back (``Handback``) with the position
/// of the first event it did not write to it when the connection cannot take more (its
/// outbound buffer is over the high-water mark: the stream goes on by itself, with its own
/// back-pressure and stuck-stream deadline), when the topic closes, when reading fails, or when
/// the server stops. Streams that need a per-stream step (gzip, `?group=` commits, a JWT's
/// `exp`) never join.
final class LiveFanout: Sendable {
    private struct State {
        /// By topic and format.
        var hubs: [HubKey: FanoutHub] = [:]
        var stopped = false
    }

    private struct HubKey: Hashable {
        var topic: ObjectIdentifier
        var format: ServerSentEventEncoder.Format
    }

    private let state = Mutex(State())
    let cache: StreamReadCache
    let configuration: LogServerConfiguration
    let metrics: ServerMetrics

    init(cache: StreamReadCache, configuration: LogServerConfiguration, metrics: ServerMetrics) {
        self.cache = cache
        self.configuration = configuration
        self.metrics = metrics
    }

    /// Joins `topic`'s hub at `position`, making the hub when there is none (then at that
    /// position). `resume` gets the hand-back, once, unless the stream cannot join (the hub is
    /// elsewhere, or the server stops): then this returns `false` and `resume` is never called.
    func join(_ topic: Topic, encoder: ServerSentEventEncoder, at position: TopicPosition, channel: any Channel,
              _ resume: @escaping @Sendable (Handback) -> Void) -> Bool {
        let key = HubKey(topic: ObjectIdentifier(topic), format: encoder.format)
        let hub: FanoutHub? = state.withLock { state in
            if state.stopped { return nil }
            if let hub = state.hubs[key] { return hub }
            let hub = FanoutHub(topic: topic, encoder: encoder, position: position, fanout: self)
            state.hubs[key] = hub
            return hub
        }
        guard let hub else { return false }
        return hub.join(at: position, channel: channel, resume)
    }

    /// Joins as ``join(_:encoder:at:channel:_:)`` does and waits for the hand-back
    /// (``Handback/notJoined`` at once when the stream cannot join).
    func join(_ topic: Topic, encoder: ServerSentEventEncoder, at position: TopicPosition, channel: any Channel) async -> Handback {
        await withCheckedContinuation { continuation in
            if !join(topic, encoder: encoder, at: position, channel: channel, { continuation.resume(returning: $0) }) {
                continuation.resume(returning: .notJoined)
            }
        }
    }

    /// Forgets `hub` (it ended) unless another took its place.
    fileprivate func remove(_ hub: FanoutHub) {
        let key = HubKey(topic: ObjectIdentifier(hub.topic), format: hub.encoder.format)
        state.withLock { state in
            if state.hubs[key] === hub { state.hubs[key] = nil }
        }
    }

    /// Hands every stream back with ``Handback/stopping(_:)``; no stream joins afterwards.
    func stopAll() {
        let hubs = state.withLock { state in
            state.stopped = true
            return Array(state.hubs.values)
        }
        for hub in hubs { hub.stop() }
    }

    /// Streams in hubs now (tests, metrics).
    var memberCount: Int { state.withLock { $0.hubs.values.reduce(0) { $0 + $1.memberCount } } }
}

/// Why a stream left its hub, and where it goes on from.
enum Handback: Sendable {
    /// It could not join: the hub is at another position, or the server is stopping.
    case notJoined
    /// Its connection could not take more: continue alone from the position.
    case slow(TopicPosition)
    /// Reading failed in the hub: continue alone from the position (and meet the error there).
    case failed(TopicPosition)
    /// The topic was deleted or the store closed.
    case ended(TopicPosition)
    /// The server is stopping.
    case stopping(TopicPosition)
    /// The connection closed.
    case closed
}

/// One topic's live streams of one format, and the task that writes to them.
///
/// Members are kept by event loop, so that a step costs one hand-off per loop (not one per
/// member), and each loop's members are taken as a ``Roster`` (an array of what a write reads of
/// each member), kept from step to step while nobody joins or leaves the loop: an idle topic's
/// keepalive rounds copy nothing. Each step's bytes are framed once for all of its HTTP/1.1 members: one
/// complete chunk (`<size in hex>\r\n<events>\r\n`) written below the connection's response
/// encoder, so that a member costs one write of a shared buffer and no per-member allocation
/// (a profile of 10,000 idle streams' keepalive rounds found half of the server's work per
/// member in the pipeline above the socket: the HTTP types conversion, the encoder's chunk
/// framing into three writes, and their flushes). An HTTP/2 member gets the step as a `DATA`
/// frame's payload written from its stream's ``HTTP2StreamGuard`` (below it), straight into the
/// stream channel, whose flow control and writability are the member's back-pressure; the HTTP/2
/// handler frames it.
final class FanoutHub: Sendable {
    /// A stream in the hub.
    final class Member: Sendable {
        let id: UInt64
        let channel: any Channel
        let resume: @Sendable (Handback) -> Void
        let writer: Writer

        init(id: UInt64, channel: any Channel, writer: Writer, resume: @escaping @Sendable (Handback) -> Void) {
            self.id = id
            self.channel = channel
            self.writer = writer
            self.resume = resume
        }
    }

    /// What a loop's turn reads of a member, stored inline in the loop's ``Roster``.
    ///
    /// The write path of an idle round is cache misses: 10,000 idle streams' connections do not
    /// fit in the processor's caches, so each keepalive write first waits for the member's
    /// objects, one after another (a `perf` annotation of the rounds put the turn's own samples on
    /// the first loads of the member and of its channel, and NIO's pipeline walk on the first
    /// loads of the context and the pipeline). A turn therefore reads the channel and the writer
    /// from this contiguous array, not from each member's object, and its first pass asks the
    /// processor for the objects the writes will read (``objects``) for all its members at once,
    /// so that their loads overlap instead of coming one at a time between two `write(2)`s.
    struct Target: @unchecked Sendable {
        let channel: any Channel
        let writer: Writer
        /// Touched only when the member is evicted.
        let member: Member
        /// Where the channel object, the writer's context and the pipeline are: addresses only,
        /// for ``FanoutHub/LoopStep/prefetch(_:from:to:)`` (the target holds the objects).
        let objects: (channel: UnsafeRawPointer, context: UnsafeRawPointer?, pipeline: UnsafeRawPointer)

        init(_ member: Member) {
            channel = member.channel
            writer = member.writer
            self.member = member
            let context: UnsafeRawPointer? = switch member.writer {
            case .chunks(let context), .dataFrames(let context): UnsafeRawPointer(Unmanaged.passUnretained(context).toOpaque())
            case .pipeline: nil
            }
            objects = (UnsafeRawPointer(Unmanaged.passUnretained(member.channel as AnyObject).toOpaque()), context,
                       UnsafeRawPointer(Unmanaged.passUnretained(member.channel.pipeline).toOpaque()))
        }
    }

    /// A loop's members as its turns write them: made at a step when the loop's members changed
    /// since the last one, and kept as long as they do not (an idle topic's keepalive rounds
    /// reuse it), read only on the loop.
    typealias Roster = [Target]

    /// Where a member's bytes are written: below its HTTP codec, in the form the next handler
    /// takes, so that a write skips the response writer's handlers and the HTTP types conversion.
    /// The context it holds is used only on its connection's event loop, where a turn writes.
    enum Writer: @unchecked Sendable {
        /// HTTP/1.1: the context of the connection's response encoder, whose next handler takes
        /// the hub's pre-framed chunks. The encoder frames the stream's body as chunks too: the
        /// HTTP types codec writes 1.1 heads, and a stream's head has no `Content-Length` (a
        /// `HEAD` request's answer has no body, so it never joins). Or, for a stream started in
        /// front of the decoder (whose connection may have no encoder), the context of the
        /// ``HTTP1FrontLane``, where the stream's own chunks are written from
        /// (Docs/adr/0011-event-streams-in-front-of-the-decoder.md).
        case chunks(ChannelHandlerContext)
        /// HTTP/2: the context of the stream's ``HTTP2StreamGuard``, the front of the stream's
        /// pipeline, whose next handler is the stream channel itself, which takes frame payloads
        /// (a body part is a `DATA` frame's payload). The guard acts only on heads and on frames
        /// that end the stream, which a step never is: written from its place, below it, a
        /// member's write skips its pass (~2 % of logd's samples in the paced HTTP/2 fan-out, Docs/BENCHMARKS.md).
        case dataFrames(ChannelHandlerContext)
        /// Through the whole pipeline, as a body part (the stream's task was not on its
        /// connection's event loop at the join, where the pipeline may be read).
        case pipeline

        /// Finds the codec of `channel`'s pipeline; must run on its event loop.
        init(channel: any Channel) {
            let pipeline = channel.pipeline.syncOperations
            if let encoder = try? pipeline.context(handlerType: HTTPResponseEncoder.self) {
                self = .chunks(encoder)
            } else if let lane = try? pipeline.context(handlerType: HTTP1FrontLane.self) {
                self = .chunks(lane)
            } else if let streamGuard = try? pipeline.context(handlerType: HTTP2StreamGuard.self) {
                self = .dataFrames(streamGuard)
            } else {
                self = .pipeline
            }
        }
    }

    /// The members whose connections run on one event loop.
    struct LoopMembers {
        let loop: any EventLoop
        private(set) var members: [UInt64: Member] = [:]
        /// `members` as the next step writes them (`nil`: made again at the next step).
        private var roster: Roster?

        init(loop: any EventLoop) {
            self.loop = loop
        }

        mutating func add(_ member: Member) {
            members[member.id] = member
            roster = nil
        }

        mutating func remove(_ id: UInt64) -> Member? {
            guard let member = members.removeValue(forKey: id) else { return nil }
            roster = nil
            return member
        }

        /// The roster, made when the members changed since the last step.
        mutating func currentRoster() -> Roster {
            if let roster { return roster }
            let made = members.values.map(Target.init)
            roster = made
            return made
        }
    }

    private struct State {
        /// The position after the last event written (or being written) to the members.
        var position: TopicPosition
        /// By event loop.
        var loops: [ObjectIdentifier: LoopMembers] = [:]
        var memberCount = 0
        var nextID: UInt64 = 0
        var running = false
        var ended = false

        mutating func remove(_ id: UInt64, on loop: ObjectIdentifier) -> Member? {
            guard let member = loops[loop]?.remove(id) else { return nil }
            memberCount -= 1
            if loops[loop]?.members.isEmpty == true { loops[loop] = nil }
            return member
        }

        /// Takes every member out.
        mutating func removeAll() -> [Member] {
            defer {
                loops = [:]
                memberCount = 0
            }
            return loops.values.flatMap { $0.members.values }
        }
    }

    let topic: Topic
    /// How the hub's events are encoded (its streams' `format`).
    let encoder: ServerSentEventEncoder
    private let fanout: LiveFanout
    private let state: Mutex<State>

    fileprivate init(topic: Topic, encoder: ServerSentEventEncoder, position: TopicPosition, fanout: LiveFanout) {
        self.topic = topic
        self.encoder = encoder
        self.fanout = fanout
        state = Mutex(State(position: position))
    }

    var memberCount: Int { state.withLock { $0.memberCount } }

    /// Adds a stream whose next event is at `position`; `false` when the hub is at another
    /// position or has ended. Starts the hub's task with its first member.
    fileprivate func join(at position: TopicPosition, channel: any Channel, _ resume: @escaping @Sendable (Handback) -> Void) -> Bool {
        // The stream's task runs on its connection's event loop (ADR 0004), where the pipeline
        // may be read; elsewhere the member is written through the whole pipeline.
        let writer = channel.eventLoop.inEventLoop ? Writer(channel: channel) : .pipeline
        let loop = ObjectIdentifier(channel.eventLoop)
        let (joined, start, id): (Bool, Bool, UInt64) = state.withLock { state in
            guard !state.ended, state.position == position else { return (false, false, 0) }
            state.nextID += 1
            let member = Member(id: state.nextID, channel: channel, writer: writer, resume: resume)
            state.loops[loop, default: LoopMembers(loop: channel.eventLoop)].add(member)
            state.memberCount += 1
            defer { state.running = true }
            return (true, !state.running, state.nextID)
        }
        guard joined else { return false }
        channel.closeFuture.whenComplete { [self] _ in leave(id, on: loop, .closed) }
        if start {
            let position = position
            // The hub runs on the event loop of its first member (EventLoopTaskExecutor.swift).
            Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) { [self] in await run(from: position) }
        }
        return true
    }

    /// Removes a member and hands it back (once: whoever removes it resumes it).
    private func leave(_ id: UInt64, on loop: ObjectIdentifier, _ handback: Handback) {
        state.withLock { $0.remove(id, on: loop) }?.resume(handback)
    }

    /// Hands every member back with ``Handback/stopping(_:)`` and ends the hub.
    fileprivate func stop() {
        end { .stopping($0) }
    }

    /// Ends the hub: no member joins any more, and every member is handed back.
    ///
    /// Each member is handed back on its connection's event loop, so that no write of the
    /// hub's reaches its stream after the stream has gone on: the hub is marked ended first, and
    /// a loop's turn that starts after that writes nothing (``LoopStep/writeTurn(from:)``).
    /// Only a stop (``stop()``, from elsewhere, at any time) can come while a step is being
    /// written: a member the step has not reached yet does not get it, and its stream ends at
    /// the event before (the client's last event id resumes it there). Before, the step's
    /// remaining writes came after the stream had ended its answer.
    private func end(_ handback: (TopicPosition) -> Handback) {
        let (members, position) = state.withLock { state in
            state.ended = true
            return (state.removeAll(), state.position)
        }
        for member in members {
            let handback = handback(position)
            member.channel.eventLoop.execute { member.resume(handback) }
        }
        fanout.remove(self)
    }

    /// Whether the hub has ended (its members are being handed back).
    private var hasEnded: Bool { state.withLock { $0.ended } }

    /// Reads the topic from `position` and writes each step to every member until none is left.
    /// A step's read (through the shared read cache) runs inline on this event loop when its
    /// bytes are in the page cache, else on the store's I/O threads (``StreamReadCache``).
    private func run(from position: TopicPosition) async {
        let configuration = fanout.configuration
        var tail: TopicTail<[UInt8]>
        do {
            tail = try fanout.cache.tail(of: topic, from: position, encoder: encoder)
        } catch {
            return end { .failed($0) }
        }
        var frame: [UInt8] = []
        // When the last step started to be written: the next keepalive is due an interval after
        // it, not after the step's last write, so that a member early in a round of 10,000 (a
        // round takes ~0.1 s) still hears from the hub at least every interval, as the contract
        // asks; a member that joins later joined after it, so its wait is shorter still.
        var lastStepStart = ContinuousClock.now
        while true {
            // No member left: the hub ends (a stream that joins later makes a new one).
            let idle = state.withLock { state -> Bool in
                if state.memberCount == 0 { state.ended = true }
                return state.ended
            }
            if idle { return end { .stopping($0) } }

            var cursor = tail.position
            let step: TopicTail<[UInt8]>.Step
            do {
                guard let read = try await tail.read(maxRecords: configuration.streamBatchRecords, maxBytes: configuration.streamBatchBytes) else {
                    return end { .ended($0) }
                }
                step = read
            } catch {
                return end { .failed($0) }
            }
            cursor.extend(toPartitionCount: tail.position.partitionCount)  // the topic grew: ids name every partition
            frame.removeAll(keepingCapacity: true)
            if step.isEmpty {
                let due = configuration.keepaliveInterval - (ContinuousClock.now - lastStepStart)
                if due > .zero, await tail.waitForRecords(timeout: due) { continue }
                encoder.keepalive(into: &frame)
                // From when it was due, if the wait woke late: the lateness does not add up over
                // rounds.
                lastStepStart = min(ContinuousClock.now, lastStepStart + configuration.keepaliveInterval)
                await write(frame, advancingTo: nil)
                continue
            }
            for notice in step.notices {
                cursor.advance(past: notice)
                encoder.notice(notice, into: &frame)
            }
            for item in step.items {
                cursor.advance(past: item)
                encoder.id(cursor, into: &frame)
                frame.append(contentsOf: item.content)
            }
            lastStepStart = ContinuousClock.now
            await write(frame, advancingTo: tail.position)
            let now = currentTimeMilliseconds()
            for item in step.items { fanout.metrics.recordDelivery(timestamp: item.timestamp, nowMilliseconds: now) }
        }
    }

    /// How many members a loop writes a step to before it serves its other connections (and
    /// the rest of the step's members in its next turn).
    static let membersPerTurn = 32

    /// How many members a loop writes a keepalive-only step to per turn. A keepalive goes to
    /// every idle stream of the topic at once and nobody waits for it, while each turn costs the
    /// loop a tick (the next turn's timer, a poll of its sockets, often a sleep and a wake-up):
    /// ~11 % of logd's CPU in 10,000 idle streams' keepalive rounds with turns of 32, under 1 %
    /// with 128 (Docs/BENCHMARKS.md). A turn of 128 writes still ends within a few milliseconds.
    static let keepaliveMembersPerTurn = 128

    /// How long after a turn the next one is due. SwiftNIO's event loop runs every task that
    /// is due, including those the tasks themselves submit, before it polls its sockets again
    /// (`SelectableEventLoop.runOneLoopTick`): a turn that submitted the next with `execute`
    /// would hold the loop's connections until the whole step is written. A turn due a little
    /// later ends the loop's tick, so the loop polls its sockets (a publisher's next request,
    /// a new stream) before the next turn.
    static let turnGap = TimeAmount.microseconds(20)

    /// One step's bytes, in the form each kind of member takes.
    struct StepBytes: Sendable {
        /// HTTP/2 members (a `DATA` frame's payload) and members written through the pipeline.
        let body: ByteBuffer
        /// HTTP/1.1 members: one complete chunk.
        let chunk: ByteBuffer
        /// Where the step starts: a member evicted before it goes on alone from here.
        let from: TopicPosition
        /// How many members a loop writes the step to per turn.
        let membersPerTurn: Int

        /// A step of events (and notices): `bytes`, never empty, from `from`.
        static func events(_ bytes: [UInt8], from: TopicPosition) -> Self {
            Self(body: ByteBuffer(bytes: bytes), chunk: FanoutHub.chunk(bytes), from: from, membersPerTurn: FanoutHub.membersPerTurn)
        }

        /// A keepalive comment's step: `bytes`, never empty, at `from`.
        static func keepalive(_ bytes: [UInt8], at from: TopicPosition) -> Self {
            Self(body: ByteBuffer(bytes: bytes), chunk: FanoutHub.chunk(bytes), from: from, membersPerTurn: FanoutHub.keepaliveMembersPerTurn)
        }
    }

    /// Counts the loops still writing a step; the last one to finish resumes the hub.
    private final class Countdown: Sendable {
        private let remaining: Atomic<Int>
        private let written: CheckedContinuation<Void, Never>

        init(_ count: Int, _ written: CheckedContinuation<Void, Never>) {
            remaining = Atomic(count)
            self.written = written
        }

        func loopDone() {
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { written.resume() }
        }
    }

    /// Writes `bytes` (never empty) to every member, from each connection's event loop, and
    /// returns once every member has been written to (or evicted); moves the hub's position to
    /// `next` in the same critical section that takes the members, so that a stream joining at
    /// the new position gets none of these bytes and one at the old gets all.
    ///
    /// Each loop writes ``membersPerTurn`` members at a time (a keepalive, `next` `nil`:
    /// ``keepaliveMembersPerTurn``), then serves its other connections
    /// (a publisher's next request, new streams) before its next turn (``turnGap``), rather
    /// than holding them behind a step's hundreds or thousands of writes. The hub reads its next
    /// step only when this one is written: at most one step is in flight, and the events that
    /// arrive meanwhile go out together in the next step (one write per member for all of them).
    /// A loop's members are taken as its ``Roster``, which is made again only when they changed
    /// since the last step.
    private func write(_ bytes: [UInt8], advancingTo next: TopicPosition?) async {
        let (rosters, from): ([(any EventLoop, Roster)], TopicPosition) = state.withLock { state in
            let from = state.position
            if let next { state.position = next }
            var rosters: [(any EventLoop, Roster)] = []
            rosters.reserveCapacity(state.loops.count)
            for key in Array(state.loops.keys) {
                rosters.append((state.loops[key]!.loop, state.loops[key]!.currentRoster()))
            }
            return (rosters, from)
        }
        guard !rosters.isEmpty else { return }
        let step = next == nil ? StepBytes.keepalive(bytes, at: from) : StepBytes.events(bytes, from: from)
        await withCheckedContinuation { (written: CheckedContinuation<Void, Never>) in
            let countdown = Countdown(rosters.count, written)
            for (loop, roster) in rosters {
                let id = ObjectIdentifier(loop)
                let write = LoopStep(roster, step, on: loop, ended: { [self] in hasEnded },
                                     evict: { [self] member in leave(member.id, on: id, .slow(step.from)) },
                                     done: { countdown.loopDone() })
                // The hub runs on an event loop: its own loop's first turn is written at once.
                if loop.inEventLoop {
                    write.writeTurn(from: 0)
                } else {
                    loop.execute { write.writeTurn(from: 0) }
                }
            }
        }
    }

    /// One step's writes to one loop's members, a turn at a time, on that loop.
    final class LoopStep: Sendable {
        let roster: Roster
        let step: StepBytes
        let loop: any EventLoop
        /// Whether the hub has ended (it has handed its members back, on their loops).
        let ended: @Sendable () -> Bool
        /// Takes a member whose connection cannot take more.
        let evict: @Sendable (Member) -> Void
        /// Called once the loop has written the whole step (or the hub has ended).
        let done: @Sendable () -> Void

        init(_ roster: Roster, _ step: StepBytes, on loop: any EventLoop, ended: @escaping @Sendable () -> Bool,
             evict: @escaping @Sendable (Member) -> Void, done: @escaping @Sendable () -> Void) {
            self.roster = roster
            self.step = step
            self.loop = loop
            self.ended = ended
            self.evict = evict
            self.done = done
        }

        /// The first pass of a turn: asks the processor for the objects the turn's writes will
        /// read first (of every member from `start` to `end`: its channel object, its writer's
        /// context, its pipeline) and returns without waiting for them. The members are read
        /// through the roster's buffer, as addresses: a retain of each member's objects (an atomic
        /// operation, which waits for the loads before it) would put the loads back in a row; an
        /// earlier try of a first pass that called each channel's `isWritable` had those retains,
        /// and gained nothing (Docs/BENCHMARKS.md).
        static func prefetch(_ roster: Roster, from start: Int, to end: Int) {
            roster.withUnsafeBufferPointer { targets in
                for index in start..<end {
                    let objects = targets[index].objects
                    // A socket channel's stored properties span about 8 lines; a context's 2.
                    eventlog_prefetch(objects.channel, 8)
                    if let context = objects.context { eventlog_prefetch(context, 2) }
                    eventlog_prefetch(objects.pipeline, 1)
                }
            }
        }

        /// Writes the step to up to its `membersPerTurn` members of the roster from `start`; then
        /// schedules the next turn ``FanoutHub/turnGap`` later, or calls `done`. A turn that
        /// starts after the hub ended writes nothing: the members may have been handed back, on
        /// this loop, before it.
        ///
        /// A turn first asks for its members' objects (``prefetch(_:from:to:)``), then writes.
        func writeTurn(from start: Int) {
            if ended() { return done() }
            let end = min(roster.count, start + step.membersPerTurn)
            Self.prefetch(roster, from: start, to: end)
            let chunkPart = NIOAny(step.chunk)
            let dataPart = NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(step.body))))
            for index in start..<end {
                // Over the high-water mark (HTTP/2: also out of flow-control window): this member
                // goes on alone from the step's start.
                guard roster[index].channel.isWritable else {
                    evict(roster[index].member)
                    continue
                }
                switch roster[index].writer {
                case .chunks(let encoder): encoder.writeAndFlush(chunkPart, promise: nil)
                case .dataFrames(let streamGuard): streamGuard.writeAndFlush(dataPart, promise: nil)
                case .pipeline: roster[index].channel.writeAndFlush(HTTPResponsePart.body(step.body), promise: nil)
                }
            }
            if end < roster.count {
                loop.scheduleTask(in: FanoutHub.turnGap) { self.writeTurn(from: end) }
            } else {
                done()
            }
        }
    }

    /// `bytes` as one HTTP/1.1 chunk (RFC 9112 §7.1), as the response encoder would frame it.
    static func chunk(_ bytes: [UInt8]) -> ByteBuffer {
        precondition(!bytes.isEmpty, "An empty chunk ends the response.")
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var size: [UInt8] = []
        var remaining = bytes.count
        while remaining > 0 {
            size.append(hex[remaining & 0xF])
            remaining >>= 4
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size.count + bytes.count + 4)
        buffer.writeBytes(size.reversed())
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
        return buffer
    }
}
