import EventLogJSON

extension JSONValue {
    /// The value as an integer within `range` when it is an integer literal (``ClientNumber``).
    func integer(in range: ClosedRange<Int64>) -> Int64? {
        ClientNumber.parse(self, in: range)
    }

    /// The compact JSON text: no insignificant whitespace, members in their order.
    var compactBytes: [UInt8] {
        var writer = JSONWriter()
        writer.append(self)
        return writer.bytes
    }
}
