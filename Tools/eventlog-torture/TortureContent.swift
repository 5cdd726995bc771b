import EventLog

/// The records of the torture campaign, derived from who wrote them, so that the checker can
/// rebuild every byte of every record it finds or was promised: a writer (`w0`, `p1`, `r`…)
/// in round R writes batch `s` as `TortureContent.batch(round: R, writer:, sequence: s)`.
///
/// A record's value starts with its tag `R<round>.<writer>.s<sequence>.i<index>.n<count>|`
/// followed by 0–383 bytes drawn from a generator seeded with the tag (letters, so that the
/// compressed codecs have something to do); its key is the writer, its one header the
/// sequence, its timestamp fixed by the sequence.
enum TortureContent {
    static let baseTimestamp: Int64 = 1_700_000_000_000

    struct Tag: Hashable, CustomStringConvertible {
        var round: Int
        var writer: String
        var sequence: Int
        var index: Int
        var count: Int

        var description: String { "R\(round).\(writer).s\(sequence).i\(index).n\(count)" }
    }

    /// How many records batch `sequence` of `writer` holds: 1–5, fixed by who wrote it, so that
    /// a retry of a batch nobody acknowledged can be rebuilt exactly.
    static func count(round: Int, writer: String, sequence: Int) -> Int {
        Int(hash("\(round)/\(writer)/\(sequence)") % 5) + 1
    }

    static func batch(round: Int, writer: String, sequence: Int) -> [Record] {
        let n = count(round: round, writer: writer, sequence: sequence)
        return (0..<n).map { record(Tag(round: round, writer: writer, sequence: sequence, index: $0, count: n)) }
    }

    static func record(_ tag: Tag) -> Record {
        let text = tag.description
        var state = hash(text)
        var value = Array(text.utf8)
        value.append(UInt8(ascii: "|"))
        let length = Int(next(&state) % 384)
        for _ in 0..<length { value.append(UInt8(truncatingIfNeeded: 65 + next(&state) % 16)) }
        return Record(key: Array(tag.writer.utf8), value: value, headers: [RecordHeader(name: "seq", value: String(tag.sequence))],
                      timestamp: baseTimestamp + Int64(tag.sequence))
    }

    /// The tag at the start of a value, or `nil` when it has none.
    static func tag(of value: [UInt8]?) -> Tag? {
        guard let value, let bar = value.firstIndex(of: UInt8(ascii: "|")) else { return nil }
        let parts = String(decoding: value[..<bar], as: UTF8.self).split(separator: ".")
        guard parts.count == 5, parts[0].first == "R", let round = Int(parts[0].dropFirst()),
              parts[2].first == "s", let s = Int(parts[2].dropFirst()),
              parts[3].first == "i", let i = Int(parts[3].dropFirst()),
              parts[4].first == "n", let n = Int(parts[4].dropFirst()) else { return nil }
        return Tag(round: round, writer: String(parts[1]), sequence: s, index: i, count: n)
    }

    /// Whether a stored record is, byte for byte, the record its tag says.
    static func matches(_ stored: StoredRecord, _ tag: Tag) -> Bool {
        let expected = record(tag)
        return stored.key == expected.key && stored.value == expected.value && stored.headers == expected.headers
            && stored.timestamp == expected.timestamp
    }

    /// FNV-1a, 64 bits.
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// SplitMix64.
    static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
