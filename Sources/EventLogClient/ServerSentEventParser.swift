/// One event of a `text/event-stream`, as the HTML standard's parser dispatches it.
struct ServerSentEvent: Sendable, Equatable {
    var id: String?
    /// `event:`; `nil` when the event had none (a browser calls it `message`).
    var type: String?
    /// The `data:` lines joined by `\n`; `nil` when the event had no `data:` line.
    var data: String?
}

/// The event-stream parser of the HTML standard (§9.2.6), fed with bytes as they arrive.
///
/// A line longer than ``maxLineBytes`` is refused (the stream is treated as broken): a
/// server cannot make the client buffer without bound.
struct ServerSentEventParser: Sendable {
    static let maxLineBytes = 16 << 20

    private var line: [UInt8] = []
    private var lastWasCR = false
    private var id: String?
    private var type: String?
    private var data: [String] = []
    private var sawField = false
    /// The last `retry:` the server sent, in milliseconds.
    private(set) var retryMilliseconds: Int?

    enum Failure: Error { case lineTooLong }

    /// Feeds `bytes`; returns the events they completed.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 0x0A && lastWasCR {  // the \n of a \r\n
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let event = endLine() { events.append(event) }
            } else {
                guard line.count < Self.maxLineBytes else { throw Failure.lineTooLong }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard sawField else { return nil }
            let event = ServerSentEvent(id: id, type: type, data: data.isEmpty ? nil : data.joined(separator: "\n"))
            id = nil
            type = nil
            data.removeAll()
            sawField = false
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }  // a comment (keepalive)
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var valueStart = colon.map { line.index(after: $0) } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = String(decoding: line[valueStart...], as: UTF8.self)
        switch name {
        case "id":
            if !value.contains("\0") { id = value }
            sawField = true
        case "event":
            type = value
            sawField = true
        case "data":
            data.append(value)
            sawField = true
        case "retry":
            if let ms = Int(value), ms >= 0 { retryMilliseconds = ms }
        default:
            break
        }
        return nil
    }
}
