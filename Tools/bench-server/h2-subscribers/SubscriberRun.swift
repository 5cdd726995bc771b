#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// One run of the subscribers: every stream's parser, the latency samples, and the run's end.
/// Confined to the one event loop every connection runs on (the program's only one), so that
/// nothing here is locked.
final class SubscriberRun {
    /// What the command line asks for.
    struct Plan {
        /// How many events each stream expects (0: read until the deadline).
        var expect: Int
        /// Every message whose sequence number is a multiple of this gives a latency sample; 0: none.
        var sampleEvery: Int64
        /// Where "ready" is written once every stream has its response head.
        var readyPath: String
        /// The run ends this long after "ready" if the streams are not all complete.
        var stopAfter: TimeAmount
        /// Connecting and opening every stream must take no longer than this.
        var openTimeout: TimeAmount
    }

    /// Why the run failed before "ready": one clear sentence.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let plan: Plan
    let eventLoop: any EventLoop
    /// Every stream's parser, in order of opening.
    private(set) var parsers: [EventStreamParser] = []
    /// Every latency sample, nanoseconds.
    var latencies: [Int64] = []

    private let done: EventLoopPromise<Void>
    private var headsAwaited = 0
    private var complete = 0
    private var ready = false
    private var finished = false
    private var readyCPUSeconds = 0.0

    /// A run on `eventLoop`, which must be the loop it is made on.
    init(plan: Plan, eventLoop: any EventLoop) {
        self.plan = plan
        self.eventLoop = eventLoop
        self.done = eventLoop.makePromise()
    }

    /// Succeeds when every stream has its events or the time is up; fails (with ``Failure``) when a
    /// stream cannot be opened.
    var finishedFuture: EventLoopFuture<Void> { done.futureResult }

    /// Adds `count` streams; returns the index of the first one's parser.
    func addStreams(_ count: Int) -> Int {
        let first = parsers.count
        for _ in 0..<count {
            parsers.append(EventStreamParser(sampleEvery: plan.sampleEvery))
        }
        headsAwaited += count
        return first
    }

    /// Reserves room for the samples the run expects, so that appending one seldom allocates.
    func reserveSamples() {
        guard plan.sampleEvery > 0, plan.expect > 0 else { return }
        latencies.reserveCapacity(parsers.count * (plan.expect / Int(plan.sampleEvery) + 1))
    }

    /// Starts the clock of the open timeout.
    func startOpening() {
        eventLoop.assumeIsolated().scheduleTask(in: plan.openTimeout) { [self] in
            if !ready {
                fail("the streams did not all open within \(plan.openTimeout.nanoseconds / 1_000_000_000) s")
            }
        }
    }

    /// Feeds stream `index`'s bytes, received now.
    func feed(_ bytes: UnsafeRawBufferPointer, toStream index: Int) {
        let before = parsers[index].received
        parsers[index].feed(bytes, nowNanoseconds: Clock.realtimeNanoseconds(), latencies: &latencies)
        if plan.expect > 0 && before < plan.expect && parsers[index].received >= plan.expect {
            complete += 1
            if complete == parsers.count && ready {
                finish()
            }
        }
    }

    /// A stream's response head arrived with `status`.
    func headReceived(status: Substring) {
        guard status == "200" else {
            fail("stream refused over HTTP/2: status \(status)")
            return
        }
        headsAwaited -= 1
        if headsAwaited == 0 && !ready {
            markReady()
        }
    }

    /// A connection or a stream failed: fatal before "ready" (as in the Python client, whose
    /// `open` raises); afterwards its streams just stop receiving (and count as incomplete).
    func connectionFailed(_ reason: String) {
        if !ready {
            fail(reason)
        }
    }

    private func markReady() {
        ready = true
        readyCPUSeconds = Self.cpuSeconds()
        let fd = open(plan.readyPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            fail("cannot write the ready file \(plan.readyPath): errno \(errno)")
            return
        }
        _ = "ready".utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, 5) }
        close(fd)
        if plan.expect > 0 && complete == parsers.count {
            finish()
            return
        }
        eventLoop.assumeIsolated().scheduleTask(in: plan.stopAfter) { [self] in finish() }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        done.succeed()
    }

    private func fail(_ reason: String) {
        guard !finished else { return }
        finished = true
        done.fail(Failure(description: reason))
    }

    /// This process's user + system CPU seconds (`getrusage(2)`).
    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// The summary `subscribers_main` returns, as one JSON object: received, errors, incomplete,
    /// last_receive, latencies_ns; and, to compare clients' costs, cpu_seconds (this process's
    /// user + system CPU time at the end) and ready_cpu_seconds (the same when "ready" was written).
    func summaryJSON() -> String {
        var received = 0
        var errors = 0
        var incomplete = 0
        var lastReceive = 0.0
        for parser in parsers {
            received += parser.received
            errors += parser.errors
            if plan.expect > 0 && parser.received != plan.expect { incomplete += 1 }
            lastReceive = max(lastReceive, parser.lastReceive)
        }
        let cpu = Self.cpuSeconds()
        var out = "{\"received\": \(received), \"errors\": \(errors), \"incomplete\": \(incomplete), "
        out += "\"last_receive\": \(lastReceive), \"cpu_seconds\": \(cpu), \"ready_cpu_seconds\": \(readyCPUSeconds), \"latencies_ns\": ["
        out.reserveCapacity(out.utf8.count + latencies.count * 12)
        for (i, latency) in latencies.enumerated() {
            if i > 0 { out += "," }
            out += String(latency)
        }
        out += "]}"
        return out
    }
}
