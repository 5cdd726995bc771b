import EventLogServer

/// The server's parsers of client input (Sources/EventLogServer/Support/ServerParsers.swift).
extension FuzzTargets {
    /// A produce request's JSON body; a JSON document's write-back round trip.
    static func produceBody(_ data: [UInt8]) { ServerParsers.produceBody(data) }

    /// A WebSocket client message.
    static func webSocketMessage(_ data: [UInt8]) { ServerParsers.webSocketMessage(data) }

    /// A query string, each value through the routes' number, offset, time and cursor parsers.
    static func queryParameters(_ data: [UInt8]) { ServerParsers.queryParameters(data) }

    /// A `Last-Event-ID` cursor.
    static func sseCursor(_ data: [UInt8]) { ServerParsers.sseCursor(data) }
}
