/// `h2-subscribers --self-test`: ``EventStreamParser`` against the Python client's meaning of
/// an event stream, fed whole and split at every chunk size from 1 byte up. Takes milliseconds.
enum ParserSelfTest {
    /// The failures, one sentence each; empty when every check holds.
    static func run() -> [String] {
        var failures: [String] = []
        func check(_ name: String, _ stream: String, sampleEvery: Int64 = 0,
                   received: Int, errors: Int, latencies: [Int64]? = nil) {
            let bytes = Array(stream.utf8)
            for chunk in [bytes.count] + Array(1...min(bytes.count, 97)) where chunk > 0 {
                var parser = EventStreamParser(sampleEvery: sampleEvery)
                var samples: [Int64] = []
                var start = 0
                while start < bytes.count {
                    let end = min(bytes.count, start + chunk)
                    bytes[start..<end].withUnsafeBytes { parser.feed($0, nowNanoseconds: 1_000, latencies: &samples) }
                    start = end
                }
                if parser.received != received || parser.errors != errors || (latencies.map { $0 != samples } ?? false) {
                    failures.append("\(name), chunks of \(chunk) bytes: received \(parser.received) (expected \(received)), "
                                    + "errors \(parser.errors) (expected \(errors)), latencies \(samples) (expected \(latencies ?? []))")
                    return
                }
            }
        }
        func logd(_ seq: Int, t: Int = 900) -> String {
            "id: 0-\(seq)\nevent: message\ndata: {\"t\":\(t),\"s\":\(seq)}\n\n"
        }
        func nchan(_ seq: Int, t: Int = 900) -> String {
            ": hi\nid: 1:\(seq)\ndata: {\"t\":\(t),\"s\":\(seq)}\n\n"
        }
        check("logd, 50 events in order", (0..<50).map { logd($0, t: 1_000 - $0) }.joined(), sampleEvery: 10,
              received: 50, errors: 0, latencies: [0, 10, 20, 30, 40])
        check("nchan, 30 events in order", (5..<35).map { nchan($0) }.joined(), received: 30, errors: 0, latencies: [])
        check("a sequence number skipped and one repeated", [0, 1, 3, 4, 4].map { logd($0) }.joined(),
              received: 5, errors: 2)
        check("whitespace after ':' and ','", "data: {\"t\": 7, \"s\":\n0}\n\ndata: {\"t\":\t8,\"s\": 1}\n\n",
              sampleEvery: 1, received: 2, errors: 0, latencies: [993, 992])
        check("an event not ended is not counted", logd(0) + logd(1) + "data: {\"t\":1,\"s\":2}\n",
              received: 2, errors: 0)
        check("a failed match retried at its quote", "data: {\"t\":1,\"t\":2,\"s\":3}\n\n", sampleEvery: 1,
              received: 1, errors: 0, latencies: [998])
        check("no message in an event", "event: gap\ndata: {\"partition\":0}\n\n" + logd(0), received: 1, errors: 0)
        return failures
    }
}
