/// Counts and checks the events of one SSE stream of the benchmark, exactly as
/// `Subscriber.feed` of Tools/bench-server/sse_clients.py does.
///
/// An event ends at a blank line (`\n\n`). In its bytes, every `"t":<ns>,"s":<seq>` (optional
/// ASCII whitespace after each `:` and `,`, as the Python client's regular expression allows)
/// is a message: counted once its event has ended; an order error whenever its sequence number
/// is not the one after the previous message's; a latency sample (`now - t`) when
/// `sampleEvery > 0` and `seq % sampleEvery == 0`.
///
/// Incremental: bytes may be split anywhere between calls to ``feed(_:nowNanoseconds:latencies:)``;
/// nothing is copied and nothing is allocated per event (found messages wait in a buffer reserved
/// once, until their event ends).
struct EventStreamParser {
    /// Messages counted (their event has ended).
    private(set) var received = 0
    /// Messages whose sequence number was not the one expected after the previous message.
    private(set) var errors = 0
    /// `CLOCK_MONOTONIC` seconds of the last call that ended an event; 0 before the first.
    private(set) var lastReceive = 0.0
    /// Every message's latency is sampled when its sequence number is a multiple of this; 0: none.
    let sampleEvery: Int64

    private var expectedNext: Int64?
    /// Messages found in the event not ended yet: (t, seq).
    private var pending: [(t: Int64, seq: Int64)] = []
    /// Whether the last byte was `\n` (a second one ends the event).
    private var afterNewline = false
    private var state = MatchState.scanning
    private var t: Int64 = 0
    private var seq: Int64 = 0

    /// Where the matcher of `"t":\s*(\d+),\s*"s":\s*(\d+)` is.
    private enum MatchState {
        /// Looking for the opening `"` (`progress` bytes of `"t":` seen).
        case scanning
        case literalT(progress: Int)
        case spaceBeforeT
        case digitsOfT
        case spaceAfterComma
        case literalS(progress: Int)
        case spaceBeforeS
        case digitsOfS
    }

    private static let quote = UInt8(ascii: "\"")
    private static let literalT: [UInt8] = Array("\"t\":".utf8)
    private static let literalS: [UInt8] = Array("\"s\":".utf8)

    /// A parser for one stream; `sampleEvery` as the Python client's `sample_every`.
    init(sampleEvery: Int64) {
        self.sampleEvery = sampleEvery
        pending.reserveCapacity(4)
    }

    /// Takes the next bytes of the stream, received at `nowNanoseconds` (`CLOCK_REALTIME`);
    /// counts the messages of the events they end and appends their latency samples to `latencies`.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, nowNanoseconds: Int64, latencies: inout [Int64]) {
        var ended = false
        for byte in bytes {
            match(byte)
            if byte == 10 {
                if afterNewline {
                    ended = true
                    commit(nowNanoseconds: nowNanoseconds, latencies: &latencies)
                }
                afterNewline = true
            } else {
                afterNewline = false
            }
        }
        if ended {
            lastReceive = Clock.monotonicSeconds()
        }
    }

    private mutating func commit(nowNanoseconds: Int64, latencies: inout [Int64]) {
        for (t, seq) in pending {
            if let expectedNext, seq != expectedNext {
                errors += 1
            }
            expectedNext = seq &+ 1
            received += 1
            if sampleEvery > 0 && seq % sampleEvery == 0 {
                latencies.append(nowNanoseconds &- t)
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        // Python's bytes `\s`: space, \t, \n, \v, \f, \r.
        byte == 32 || (9...13).contains(byte)
    }

    private static func digit(_ byte: UInt8) -> Int64? {
        (48...57).contains(byte) ? Int64(byte &- 48) : nil
    }

    private mutating func match(_ byte: UInt8) {
        switch state {
        case .scanning:
            if byte == Self.quote { state = .literalT(progress: 1) }
        case .literalT(let progress):
            if byte == Self.literalT[progress] {
                state = progress + 1 == Self.literalT.count ? .spaceBeforeT : .literalT(progress: progress + 1)
            } else {
                restart(byte)
            }
        case .spaceBeforeT:
            if Self.isSpace(byte) { return }
            if let d = Self.digit(byte) {
                t = d
                state = .digitsOfT
            } else {
                restart(byte)
            }
        case .digitsOfT:
            if let d = Self.digit(byte) {
                t = t &* 10 &+ d
            } else if byte == UInt8(ascii: ",") {
                state = .spaceAfterComma
            } else {
                restart(byte)
            }
        case .spaceAfterComma:
            if Self.isSpace(byte) { return }
            if byte == Self.quote { state = .literalS(progress: 1) } else { restart(byte) }
        case .literalS(let progress):
            if byte == Self.literalS[progress] {
                state = progress + 1 == Self.literalS.count ? .spaceBeforeS : .literalS(progress: progress + 1)
            } else if progress == 1 {
                // `"` then not `s`: that `"` may open `"t":` (as the regex would retry there).
                state = .literalT(progress: 1)
                match(byte)
            } else {
                restart(byte)
            }
        case .spaceBeforeS:
            if Self.isSpace(byte) { return }
            if let d = Self.digit(byte) {
                seq = d
                state = .digitsOfS
            } else {
                restart(byte)
            }
        case .digitsOfS:
            if let d = Self.digit(byte) {
                seq = seq &* 10 &+ d
            } else {
                pending.append((t, seq))
                restart(byte)
            }
        }
    }

    /// The match failed (or ended) at `byte`: look again from it.
    private mutating func restart(_ byte: UInt8) {
        state = byte == Self.quote ? .literalT(progress: 1) : .scanning
    }
}
