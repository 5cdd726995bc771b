/// When the cleaner first saw the tombstones of the compacted range: the clock a tombstone's
/// `deleteRetentionMs` runs on.
///
/// A record's timestamp is the producer's to choose (a tombstone sent with timestamp 0 would
/// otherwise be removed by the first pass, before any consumer saw the delete), so, as Kafka
/// does with its delete horizon, expiry uses the cleaner's own clock. The compacted range
/// `[expiredBelow, firstDirtyOffset)` is cut into ranges, each with the wall-clock time of the
/// pass that first cleaned it; every pass adds its dirty range with its own time. A tombstone
/// expires once its range's time is more than `deleteRetentionMs` ago (below `expiredBelow`:
/// expired). Ranges whose time has expired are dropped by the pass that removed their
/// tombstones. At most ``capacity`` ranges are kept: beyond, the two neighbours closest in
/// time merge, keeping the later time, so a tombstone may stay longer, never shorter.
///
/// Persisted in the `cleaner-checkpoint` file (version 2, Docs/FORMAT.md).
struct TombstoneSightings: Hashable, Sendable {
    struct Range: Hashable, Sendable {
        /// The offset after the range (it starts where the previous one ends).
        var end: Int64
        /// When the cleaner first cleaned it (ms since the epoch).
        var firstSeenMs: Int64
        /// Whether the last pass kept a tombstone in it (such a range makes a pass due once it expires).
        var holdsTombstones: Bool
    }

    /// Offsets below this have expired.
    private(set) var expiredBelow: Int64 = 0
    /// The ranges, in offset order; their times never decrease.
    private(set) var ranges: [Range] = []

    /// The most ranges kept.
    static let capacity = 64

    init() {}

    init(expiredBelow: Int64, ranges: [Range]) {
        self.expiredBelow = expiredBelow
        self.ranges = ranges
    }

    /// Where the sighted range ends: offsets from here on have not been cleaned yet.
    var end: Int64 { ranges.last?.end ?? expiredBelow }

    /// The index of the range holding `offset`: `-1` below every range, `ranges.count` past them.
    func rangeIndex(of offset: Int64) -> Int {
        if offset < expiredBelow { return -1 }
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].end > offset { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// When the cleaner first saw `offset`: `Int64.min` below every range, `now` past them
    /// (the range being cleaned for the first time by the pass running now).
    func firstSeen(_ offset: Int64, now: Int64) -> Int64 {
        let i = rangeIndex(of: offset)
        if i < 0 { return .min }
        return i < ranges.count ? ranges[i].firstSeenMs : now
    }

    /// Whether a range holding tombstones has expired: a pass would remove them.
    func expiredTombstones(now: Int64, deleteRetentionMs: Int64) -> Bool {
        ranges.contains { $0.holdsTombstones && $0.firstSeenMs < now - deleteRetentionMs }
    }

    /// Records a finished pass made at `now` that cleaned everything below `cleanedEnd`:
    /// `kept[i]` says whether it kept a tombstone in range `i` (the last entry: in the range it
    /// saw first). Adds that new range, drops expired ones, merges down to ``capacity``.
    mutating func recordPass(cleanedEnd: Int64, now: Int64, horizon: Int64, kept: [Bool]) {
        for i in ranges.indices where i < kept.count { ranges[i].holdsTombstones = kept[i] }
        if cleanedEnd > end {
            let holds = kept.count > ranges.count ? kept[ranges.count] : true
            if let last = ranges.last, last.firstSeenMs == now {
                ranges[ranges.count - 1].end = cleanedEnd
                ranges[ranges.count - 1].holdsTombstones = last.holdsTombstones || holds
            } else {
                ranges.append(Range(end: cleanedEnd, firstSeenMs: now, holdsTombstones: holds))
            }
        }
        // Expired ranges: this pass removed their tombstones.
        while let first = ranges.first, first.firstSeenMs < horizon {
            expiredBelow = first.end
            ranges.removeFirst()
        }
        while ranges.count > Self.capacity {
            var closest = 0
            for i in 0..<(ranges.count - 1)
            where ranges[i + 1].firstSeenMs - ranges[i].firstSeenMs < ranges[closest + 1].firstSeenMs - ranges[closest].firstSeenMs {
                closest = i
            }
            let merged = Range(end: ranges[closest + 1].end, firstSeenMs: ranges[closest + 1].firstSeenMs,
                               holdsTombstones: ranges[closest].holdsTombstones || ranges[closest + 1].holdsTombstones)
            ranges.replaceSubrange(closest...(closest + 1), with: [merged])
        }
    }

    // MARK: The checkpoint file

    /// The `cleaner-checkpoint` text, version 2: `2 <firstDirty> <expiredBelow>`, then one
    /// `<end> <firstSeenMs> <0|1>` line per range.
    static func checkpointText(firstDirty: Int64, sightings: TombstoneSightings) -> String {
        var text = "2 \(firstDirty) \(sightings.expiredBelow)\n"
        for r in sightings.ranges { text += "\(r.end) \(r.firstSeenMs) \(r.holdsTombstones ? 1 : 0)\n" }
        return text
    }

    /// Parses a `cleaner-checkpoint`: version 2, or version 1 (`1 <firstDirty>`, before
    /// sightings were kept: everything compacted counts as first seen `now`, so its tombstones
    /// stay a whole `deleteRetentionMs` from the upgrade). `nil` when unreadable.
    static func parseCheckpoint(_ text: String, now: Int64) -> (firstDirty: Int64, sightings: TombstoneSightings)? {
        let lines = text.split(separator: "\n")
        guard let head = lines.first?.split(separator: " "), let version = head.first else { return nil }
        switch version {
        case "1":
            guard head.count == 2, let firstDirty = Int64(head[1]), firstDirty >= 0 else { return nil }
            let ranges = firstDirty > 0 ? [Range(end: firstDirty, firstSeenMs: now, holdsTombstones: true)] : []
            return (firstDirty, TombstoneSightings(expiredBelow: 0, ranges: ranges))
        case "2":
            guard head.count == 3, let firstDirty = Int64(head[1]), let expiredBelow = Int64(head[2]),
                  firstDirty >= 0, expiredBelow >= 0, lines.count - 1 <= capacity else { return nil }
            var ranges: [Range] = []
            var previous = expiredBelow
            for line in lines.dropFirst() {
                let f = line.split(separator: " ")
                guard f.count == 3, let end = Int64(f[0]), let seen = Int64(f[1]), f[2] == "0" || f[2] == "1",
                      end > previous else { return nil }
                ranges.append(Range(end: end, firstSeenMs: seen, holdsTombstones: f[2] == "1"))
                previous = end
            }
            return (firstDirty, TombstoneSightings(expiredBelow: expiredBelow, ranges: ranges))
        default:
            return nil
        }
    }
}
