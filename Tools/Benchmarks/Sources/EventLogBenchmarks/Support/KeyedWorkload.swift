import EventLog

/// Keyed records for compacted topics: `keyCount` distinct keys, values of 100 to 200 bytes.
///
/// The `i`-th batch is a pure function of `i`, so concurrent appending tasks need no shared
/// state and every run writes the same bytes. The `n`-th record's key is `n × stride mod
/// keyCount` with `stride` coprime to `keyCount`: every run of `keyCount` records holds every
/// key once, in a scattered order, so every key gets as many versions as the log has such runs.
/// Values are cycled from a fixed-seed pool.
struct KeyedWorkload: Sendable {
    /// The keys, `key-0000000` …, as bytes.
    let keys: [[UInt8]]
    /// The value pool (sizes spread evenly over `valueSizes`).
    let values: [[UInt8]]
    /// Records per batch.
    let batchSize: Int
    /// The multiplier that scatters keys (coprime to the key count).
    private let stride: UInt64

    init(keyCount: Int, valueSizes: ClosedRange<Int> = 100...200, distinctValues: Int = 1024, batchSize: Int = 100, seed: UInt64 = 0xc0ffee) {
        precondition(keyCount > 0)
        keys = (0..<keyCount).map { k in
            let digits = String(k)
            return Array(("key-" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits).utf8)
        }
        var rng = SplitMix64(seed: seed)
        let span = valueSizes.count
        values = (0..<distinctValues).map { i in
            Workload.eventValue(size: valueSizes.lowerBound + (i * 7919) % span, rng: &rng)
        }
        self.batchSize = batchSize
        var stride: UInt64 = 2_654_435_761 % UInt64(keyCount)
        while Self.gcd(stride, UInt64(keyCount)) != 1 { stride += 1 }
        self.stride = stride
    }

    private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? a : gcd(b, a % b) }

    /// The batch for the `i`-th append.
    func batch(_ i: Int) -> [Record] {
        var out: [Record] = []
        out.reserveCapacity(batchSize)
        let first = UInt64(i) &* UInt64(batchSize)
        for j in 0..<UInt64(batchSize) {
            let n = first &+ j
            let key = Int((n % UInt64(keys.count)) &* stride % UInt64(keys.count))
            out.append(Record(key: keys[key], value: values[Int(n % UInt64(values.count))]))
        }
        return out
    }

    /// Appends batches from `tasks` tasks until the partition holds at least `bytes` bytes of
    /// segments: the batches appended.
    func fill(_ partition: Partition, bytes: Int64, tasks: Int) async throws -> Int {
        try await Appenders.fill(partition, bytes: bytes, tasks: tasks) { self.batch($0) }
    }
}
