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
    /// A field whose value is JSON text already (checked by the caller), written as it is.
    mutating func rawField(_ name: String, json: String) { key(name); separate(); text += json }
    mutating func field(_ name: String, _ i: Int64?) { key(name); if let i { value(i) } else { null() } }
    mutating func field(_ name: String, _ i: Int) { key(name); value(Int64(i)) }
    mutating func field(_ name: String, _ b: Bool) { key(name); value(b) }
    mutating func field(_ name: String, _ d: Double?) { key(name); if let d { value(d) } else { null() } }

    /// A field holding bytes, named as the HTTP API names a record's: `name` + `textSuffix`
    /// with the text when the bytes are UTF-8, else `name_b64` with their base64; `name: null`
    /// when there are none.
    mutating func bytesField(_ name: String, _ bytes: ByteText?, textSuffix: String = "") {
        guard let bytes else { return field(name, nil as String?) }
        field(name + (bytes.encoding == .utf8 ? textSuffix : "_b64"), bytes.text)
    }

    /// A record's headers as the HTTP API writes them: `headers`, an object of those whose
    /// values are UTF-8, and only when there are others, `headers_b64`, an object of those
    /// in base64. Each keeps the headers' order.
    mutating func headersFields(_ headers: [(name: String, value: ByteText)]) {
        key("headers")
        beginObject()
        for header in headers where header.value.encoding == .utf8 { field(header.name, header.value.text) }
        endObject()
        guard headers.contains(where: { $0.value.encoding == .base64 }) else { return }
        key("headers_b64")
        beginObject()
        for header in headers where header.value.encoding == .base64 { field(header.name, header.value.text) }
        endObject()
    }

    /// A timestamp field in milliseconds and, beside it, the same instant as ISO-8601 text.
    mutating func timestampField(_ name: String, _ milliseconds: Int64?, text textName: String) {
        field(name, milliseconds)
        field(textName, milliseconds.flatMap { ISO8601.string(milliseconds: $0) })
    }
}
