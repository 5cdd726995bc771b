/// Writes one JSON value as text, field by field, without building a tree first.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.field("offset", 17); w.field("key", nil as String?); w.endObject()
/// w.text // {"offset":17,"key":null}
/// ```
struct JSONWriter {
    private(set) var text = ""
    /// One flag per open container: whether it already holds an element.
    private var hasElement: [Bool] = []
    private var afterKey = false

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        if let last = hasElement.last {
            if last { text += "," }
            hasElement[hasElement.count - 1] = true
        }
    }

    mutating func beginObject() { separate(); text += "{"; hasElement.append(false) }
    mutating func endObject() { hasElement.removeLast(); text += "}" }
    mutating func beginArray() { separate(); text += "["; hasElement.append(false) }
    mutating func endArray() { hasElement.removeLast(); text += "]" }

    mutating func key(_ name: String) {
        separate()
        text += ByteText.quoted(name) + ":"
        afterKey = true
    }

    mutating func null() { separate(); text += "null" }
    mutating func value(_ s: String) { separate(); text += ByteText.quoted(s) }
    mutating func value(_ i: Int64) { separate(); text += String(i) }
    mutating func value(_ b: Bool) { separate(); text += b ? "true" : "false" }
    mutating func value(_ d: Double) {
        separate()
        text += d.isFinite ? String(d) : "null"
    }

    mutating func field(_ name: String, _ s: String?) { key(name); if let s { value(s) } else { null() } }
    mutating func field(_ name: String, _ i: Int64?) { key(name); if let i { value(i) } else { null() } }
    mutating func field(_ name: String, _ i: Int) { key(name); value(Int64(i)) }
    mutating func field(_ name: String, _ b: Bool) { key(name); value(b) }
    mutating func field(_ name: String, _ d: Double?) { key(name); if let d { value(d) } else { null() } }

    /// A field holding bytes: the text (or base64) and, beside it, `<name>Encoding`.
    mutating func bytesField(_ name: String, _ bytes: ByteText?) {
        field(name, bytes?.text)
        field(name + "Encoding", bytes?.encoding.rawValue)
    }

    /// A timestamp field in milliseconds and, beside it, the same instant as ISO-8601 text.
    mutating func timestampField(_ name: String, _ milliseconds: Int64?, text textName: String) {
        field(name, milliseconds)
        field(textName, milliseconds.flatMap { ISO8601.string(milliseconds: $0) })
    }
}
