/// Where each batch of a segment starts and which offsets and timestamps it holds, in file
/// order: what the index checks compare the indexes against.
struct BatchMap: Sendable {
    private(set) var positions: [Int64] = []
    private(set) var baseOffsets: [Int64] = []
    private(set) var lastOffsets: [Int64] = []
    /// The largest timestamp of the batches up to and including each one.
    private(set) var runningMaxTimestamps: [Int64] = []
    /// Batches were read from byte 0 up to here; past it the log is damaged or cut off.
    var readableEnd: Int64 = 0

    var count: Int { positions.count }

    mutating func append(position: Int64, baseOffset: Int64, lastOffset: Int64, maxTimestamp: Int64) {
        positions.append(position)
        baseOffsets.append(baseOffset)
        lastOffsets.append(lastOffset)
        runningMaxTimestamps.append(max(runningMaxTimestamps.last ?? .min, maxTimestamp))
    }

    /// The batch that starts at `position` exactly.
    func batch(startingAt position: Int64) -> Int? {
        guard let i = batch(containing: position), positions[i] == position else { return nil }
        return i
    }

    /// The batch whose bytes include `position` (the last one starting at or before it).
    func batch(containing position: Int64) -> Int? {
        lastIndex(in: positions, atOrBelow: position)
    }

    /// The batch holding `offset`.
    func batch(holding offset: Int64) -> Int? {
        guard let i = lastIndex(in: baseOffsets, atOrBelow: offset), lastOffsets[i] >= offset else { return nil }
        return i
    }

    private func lastIndex(in values: [Int64], atOrBelow target: Int64) -> Int? {
        var lo = 0, hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if values[mid] <= target { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo - 1
    }
}
