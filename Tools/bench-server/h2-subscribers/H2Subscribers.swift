#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL

/// The HTTP/2 + TLS SSE subscribers of `make bench-server` (`--h2-client native`): the
/// arguments and the summary of `subscribers_main` in Tools/bench-server/sse_clients.py, over
/// SwiftNIO on one event loop. Wiring only.
@main
struct H2Subscribers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h2-subscribers",
        abstract: "Opens SSE streams over HTTP/2 + TLS, checks and times their events, prints one JSON summary.")

    @Option(help: "The server: logd (/v1/topics/bench/events?from=latest) or nchan (/sub).")
    var kind: String = "logd"
    @Option(help: "The server's https URL, e.g. https://127.0.0.1:8443.")
    var url: String = ""
    @Option(help: "How many event streams to open.")
    var count: Int = 1
    @Option(help: "Sample the latency of every message whose sequence number is a multiple of this (0: none).")
    var sampleEvery: Int = 0
    @Option(help: "Where to write \"ready\" once every stream has its response head.")
    var readyPath: String = ""
    @Option(help: "Stop reading this many seconds after ready.")
    var stopAfter: Double = 60
    @Option(help: "Stop once every stream has this many events (0: at --stop-after only).")
    var expect: Int = 0
    @Option(help: "Event streams per TLS connection (1...100).")
    var streamsPerConnection: Int = 1
    @Flag(help: "Check the event parser on split SSE input, print the result and exit.")
    var selfTest = false

    mutating func validate() throws {
        if selfTest { return }
        guard ["logd", "nchan"].contains(kind) else { throw ValidationError("--kind must be logd or nchan") }
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000") }
        guard (1...100).contains(streamsPerConnection) else {
            throw ValidationError("--streams-per-connection must be between 1 and 100")
        }
        guard sampleEvery >= 0, expect >= 0 else { throw ValidationError("--sample-every and --expect must be ≥ 0") }
        guard stopAfter > 0, stopAfter <= 86_400 else { throw ValidationError("--stop-after must be in (0, 86400] seconds") }
        guard !readyPath.isEmpty else { throw ValidationError("--ready-path is required") }
        guard Endpoint(url: url) != nil else { throw ValidationError("--url must be https://host:port") }
    }

    func run() throws {
        if selfTest {
            let failures = ParserSelfTest.run()
            if failures.isEmpty {
                print("h2-subscribers self-test: ok")
                return
            }
            for failure in failures { printError(failure) }
            throw ExitCode.failure
        }
        let endpoint = Endpoint(url: url)!
        let path = kind == "logd" ? "/v1/topics/bench/events?from=latest" : "/sub"
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none  // the benchmark's certificate is self-signed
        tls.applicationProtocols = ["h2"]
        // At the end the connections close at once: no 5 s wait for each server's close_notify.
        tls.shutdownTimeout = .milliseconds(100)
        let sslContext = try NIOSSLContext(configuration: tls)
        let headers = HPACKHeaders([
            (":method", "GET"), (":scheme", "https"), (":authority", "\(endpoint.host):\(endpoint.port)"),
            (":path", path), ("accept", "text/event-stream"),
        ])
        let plan = SubscriberRun.Plan(
            expect: expect, sampleEvery: Int64(sampleEvery), readyPath: readyPath,
            stopAfter: .nanoseconds(Int64(stopAfter * 1e9)), openTimeout: .seconds(30))
        let sizes = stride(from: 0, to: count, by: streamsPerConnection).map { min(streamsPerConnection, count - $0) }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let outcome = loop.flatSubmit { () -> EventLoopFuture<String> in
            let run = SubscriberRun(plan: plan, eventLoop: loop)
            let boundRun = NIOLoopBound(run, eventLoop: loop)
            for size in sizes {
                let first = run.addStreams(size)
                let connected = ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connectTimeout(.seconds(30))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: endpoint.sniName))
                            try sync.addHandler(NIOHTTP2Handler(mode: .client, initialSettings: [
                                HTTP2Setting(parameter: .initialWindowSize, value: EventStreamsHandler.streamWindow),
                                HTTP2Setting(parameter: .enablePush, value: 0),
                            ]))
                            try sync.addHandler(EventStreamsHandler(
                                run: boundRun.value, requestHeaders: headers, firstStream: first, streamCount: size))
                        }
                    }
                    .connect(host: endpoint.host, port: endpoint.port)
                connected.whenFailure { error in boundRun.value.connectionFailed("cannot connect: \(error)") }
            }
            run.reserveSamples()
            run.startOpening()
            return run.finishedFuture.map { boundRun.value.summaryJSON() }
        }
        do {
            // Written before the event loop shuts down (closing every connection), unbuffered.
            writeAll(try outcome.wait() + "\n", to: 1)
        } catch let failure as SubscriberRun.Failure {
            printError("h2-subscribers: \(failure.description)")
            throw ExitCode.failure
        }
    }

    private func printError(_ line: String) {
        writeAll(line + "\n", to: 2)
    }

    /// Writes all of `text` to file descriptor `fd` (`write(2)` until done or failed).
    private func writeAll(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
