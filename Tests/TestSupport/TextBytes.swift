package import EventLog

/// The UTF-8 bytes of `string`.
package func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Bytes as text (invalid UTF-8 repaired), `nil` for `nil`.
package func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// A record's key or value as text (invalid UTF-8 repaired), `nil` for `nil`.
package func text(_ bytes: RecordBytes?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
