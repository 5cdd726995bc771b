/// The host and port of an `https://host:port` URL (no path: the streams' paths are fixed).
struct Endpoint {
    var host: String
    var port: Int

    /// Parses `https://host:port[/]`; nil for anything else.
    init?(url: String) {
        guard url.hasPrefix("https://") else { return nil }
        var rest = url.dropFirst("https://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
              (1...65_535).contains(port), colon > rest.startIndex else { return nil }
        host = String(rest[..<colon])
        self.port = port
    }

    /// The TLS server name to send: none for an IPv4 address (SNI names hosts only).
    var sniName: String? {
        host.allSatisfy { $0.isNumber || $0 == "." } ? nil : host
    }
}
