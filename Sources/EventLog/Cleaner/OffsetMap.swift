/// The compactor's key → latest offset map, in a fixed memory budget.
///
/// Keys are stored as 128-bit hashes (two independent 64-bit hashes) in an open-addressing
/// table allocated once: 24 bytes a slot, filled to at most 75 %. When it is full the cleaner
/// stops the pass at a batch boundary and continues in another pass, so the number of keys
/// in a partition never bounds memory (Kafka's `SkimpyOffsetMap`, with a budget).
struct OffsetMap {
    private var hashA: [UInt64]
    private var hashB: [UInt64]
    private var offsets: [Int64]
    private let mask: Int
    /// The most entries the map takes before it reports full.
    let capacity: Int
    private(set) var count = 0

    /// A map using about `budgetBytes` of memory (at least 1,024 slots).
    init(budgetBytes: Int) {
        var slots = 1024
        while slots * 2 * 24 <= budgetBytes { slots *= 2 }
        hashA = [UInt64](repeating: 0, count: slots)
        hashB = [UInt64](repeating: 0, count: slots)
        offsets = [Int64](repeating: -1, count: slots)
        mask = slots - 1
        capacity = slots * 3 / 4
    }

    var isFull: Bool { count >= capacity }
    func canTake(_ n: Int) -> Bool { count + n <= capacity }

    /// Two independent 64-bit hashes of a key (FNV-1a and a multiply-xorshift mix).
    static func hash(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        for byte in key {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0xBF58_476D_1CE4_E5B9
            b ^= b >> 29
        }
        b = (b ^ (b >> 32)) &* 0x94D0_49BB_1331_11EB
        b ^= b >> 29
        // 0 marks an empty slot in `hashA`.
        return (a == 0 ? 1 : a, b)
    }

    /// Records `offset` as the latest for the key (later offsets win).
    mutating func put(_ h: (UInt64, UInt64), offset: Int64) {
        var i = Int(truncatingIfNeeded: h.1) & mask
        while true {
            if hashA[i] == 0 {
                hashA[i] = h.0
                hashB[i] = h.1
                offsets[i] = offset
                count += 1
                return
            }
            if hashA[i] == h.0 && hashB[i] == h.1 {
                if offset > offsets[i] { offsets[i] = offset }
                return
            }
            i = (i + 1) & mask
        }
    }

    /// The latest offset recorded for the key, or `nil`.
    func get(_ h: (UInt64, UInt64)) -> Int64? {
        var i = Int(truncatingIfNeeded: h.1) & mask
        while true {
            if hashA[i] == 0 { return nil }
            if hashA[i] == h.0 && hashB[i] == h.1 { return offsets[i] }
            i = (i + 1) & mask
        }
    }
}
