/// A broker's `host:port` (a bracketed IPv6 host allowed: `[::1]:9092`).
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    /// The host name or address.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// The address `host`:`port`.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; `nil` when there is no port, or it is not in 1…65535.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// A comma-separated list of `host:port`, as Kafka's `bootstrap.servers`; `nil` when any
    /// entry is not one.
    public static func list(_ text: String) -> [BrokerAddress]? {
        let entries = text.split(separator: ",").map { $0.trimmingSpaces }
        guard !entries.isEmpty else { return nil }
        var out: [BrokerAddress] = []
        for entry in entries {
            guard let address = BrokerAddress(entry) else { return nil }
            out.append(address)
        }
        return out
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
