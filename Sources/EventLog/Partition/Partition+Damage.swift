/// The damaged ranges a partition's reads have met, so that each is logged once and an
/// operator can list them (``Partition/damagedRanges``).
///
/// Keyed by where reading resumes (the range's end), which every read that meets the same
/// damage computes alike, whatever offset it started from. At most ``capacity`` are kept;
/// past that the lowest are forgotten (and would be logged again if met again).
struct DamageRegister: Sendable {
    static let capacity = 64

    /// Sorted by `first`, disjoint.
    private(set) var ranges: [OffsetRange] = []

    /// Records `range`; `true` when it is new (not only a wider view of a known one).
    mutating func note(_ range: OffsetRange) -> Bool {
        if let i = ranges.firstIndex(where: { $0.end == range.end }) {
            ranges[i].first = min(ranges[i].first, range.first)
            return false
        }
        ranges.append(range)
        ranges.sort { $0.first < $1.first }
        if ranges.count > Self.capacity { ranges.removeFirst(ranges.count - Self.capacity) }
        return true
    }
}

extension Partition {
    /// The offsets that reads found unreadable (stored bytes that fail their checksum or
    /// framing) since the partition was opened, in offset order; ranges that retention has
    /// deleted since are left out. Each range was logged once, at error level, when first met.
    ///
    /// Damage is found by reading: a range appears here once a reader reached it. Readers get
    /// the same range in the ``LogError/range`` of a ``LogError/Code/corruptData`` error and
    /// resume at its end.
    public var damagedRanges: [OffsetRange] {
        let start = startOffset
        return damage.withLock { $0.ranges }.filter { $0.end > start }
    }

    /// Remembers a damaged range a read met, logging it the first time.
    func noteDamage(_ error: LogError) {
        guard let range = error.range else { return }
        guard damage.withLock({ $0.note(range) }) else { return }
        logger.error("stored data is damaged: readers skip the unreadable offsets", metadata: [
            "first": "\(range.first)", "end": "\(range.end)", "error": "\(error.message)",
        ])
    }
}
