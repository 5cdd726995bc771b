#if canImport(Glibc)
import Glibc
#else
#error("KafkaClient is built for Linux (Glibc) only")
#endif

/// A blocking TCP socket whose every wait is bounded by a deadline (`poll(2)` before each
/// `recv(2)` and `send(2)`), for a client that sends a request and waits for its answer.
final class SocketStream {
    private var fd: Int32
    /// The peer, for messages.
    let address: BrokerAddress

    /// Connects to `address` (every address its host resolves to, in turn) within `timeoutMs`.
    ///
    /// - Throws: ``KafkaClientError/Code/connectionFailed`` or ``KafkaClientError/Code/timedOut``.
    init(connectingTo address: BrokerAddress, timeoutMs: Int) throws(KafkaClientError) {
        self.address = address
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard status == 0, let first = list else {
            throw KafkaClientError(.connectionFailed, "cannot resolve the broker host \(address.host): \(String(cString: gai_strerror(status))).")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), info.pointee.ai_protocol)
            guard socketFD >= 0 else { lastError = Self.errnoText(); continue }
            if connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                lastError = Self.errnoText()
                Glibc.close(socketFD)
                continue
            }
            var pfd = pollfd(fd: socketFD, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, Int32(clamping: timeoutMs))
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(socketFD, SOL_SOCKET, SO_ERROR, &soError, &length)
            if ready == 1 && soError == 0 {
                var one: Int32 = 1
                setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                fd = socketFD
                return
            }
            lastError = ready == 0 ? "no answer within \(timeoutMs) ms" : String(cString: strerror(soError == 0 ? errno : soError))
            Glibc.close(socketFD)
            if ready == 0 {
                throw KafkaClientError(.timedOut, "cannot connect to the broker at \(address): \(lastError).")
            }
        }
        throw KafkaClientError(.connectionFailed, "cannot connect to the broker at \(address): \(lastError).")
    }

    deinit { close() }

    /// Closes the socket (idempotent).
    func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { fd < 0 }

    /// Sends all of `bytes` before `deadline` (a `CLOCK_MONOTONIC` time in ms).
    func send(_ bytes: [UInt8], deadline: Int64) throws(KafkaClientError) {
        var sent = 0
        while sent < bytes.count {
            try wait(for: Int16(POLLOUT), deadline: deadline, doing: "sending a request")
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw failure("sending a request")
            }
            sent += n
        }
    }

    /// Receives exactly `count` bytes before `deadline`.
    func receive(exactly count: Int, deadline: Int64) throws(KafkaClientError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            try wait(for: Int16(POLLIN), deadline: deadline, doing: "waiting for an answer")
            let n = buffer.withUnsafeMutableBytes { raw in
                recv(fd, raw.baseAddress! + received, raw.count - received, 0)
            }
            if n == 0 {
                close()
                throw KafkaClientError(.connectionFailed, "the broker at \(address) closed the connection.")
            }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw failure("waiting for an answer")
            }
            received += n
        }
        return buffer
    }

    private func wait(for events: Int16, deadline: Int64, doing what: String) throws(KafkaClientError) {
        guard fd >= 0 else {
            throw KafkaClientError(.connectionFailed, "the connection to the broker at \(address) is closed.")
        }
        while true {
            let left = deadline - Self.nowMs()
            guard left > 0 else {
                close()
                throw KafkaClientError(.timedOut, "the broker at \(address) did not answer in time while \(what).")
            }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&pfd, 1, Int32(clamping: left))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw failure(what) }
        }
    }

    private func failure(_ what: String) -> KafkaClientError {
        let text = Self.errnoText()
        close()
        return KafkaClientError(.connectionFailed, "the connection to the broker at \(address) failed while \(what): \(text).")
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Milliseconds of `CLOCK_MONOTONIC`.
    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
