/// A parsed JSON document that keeps what the wire had: member order and number literals.
///
/// Record values given as `"value": <any JSON>` are stored as their compact JSON text, so the
/// server must not reorder object members or reformat numbers; Foundation's `JSONSerialization`
/// does both. Numbers are kept as their literal text.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, as its literal text (already checked against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a repeated name keeps every occurrence.
    case object([JSONMember])

    /// The member named `name` (the last one, as most parsers do), or `nil`.
    package subscript(member name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.name == name }?.value
    }

    /// The string, when the value is one.
    package var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }
}

/// One member of a JSON object.
package struct JSONMember: Sendable, Equatable {
    package var name: String
    package var value: JSONValue

    package init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}
