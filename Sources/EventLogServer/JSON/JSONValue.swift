/// A parsed JSON document that keeps what the wire had: member order and number literals.
///
/// Record values given as `"value": <any JSON>` are stored as their compact JSON text, so the
/// server must not reorder object members or reformat numbers; Foundation's `JSONSerialization`
/// does both. Numbers are kept as their literal text.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, as its literal text (already checked against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a repeated name keeps every occurrence.
    case object([JSONMember])

    /// The member named `name` (the last one, as most parsers do), or `nil`.
    subscript(member name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.name == name }?.value
    }

    /// The value as an integer within `range` when it is an integer literal (``ClientNumber``).
    func integer(in range: ClosedRange<Int64>) -> Int64? {
        ClientNumber.parse(self, in: range)
    }

    /// The string, when the value is one.
    var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    /// The compact JSON text: no insignificant whitespace, members in their order.
    var compactBytes: [UInt8] {
        var writer = JSONWriter()
        writer.append(self)
        return writer.bytes
    }
}

/// One member of a JSON object.
struct JSONMember: Sendable, Equatable {
    var name: String
    var value: JSONValue
}
