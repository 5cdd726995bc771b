import EventLog
import Foundation

/// The records every scenario and its baseline write: the same bytes for EventLog and SQLite.
///
/// Values are JSON-like event text (so that LZ4 and Zstd have realistic, not trivial, work),
/// padded to an exact size, from a fixed-seed generator; a pool of distinct batches is cycled.
struct Workload: Sendable {
    /// The batches, cycled by index.
    let batches: [[Record]]
    /// The same values as `Data`, for GRDB's statement arguments (converted before timing).
    let values: [[Data]]
    /// Bytes of value per record.
    let valueSize: Int
    /// Records per batch.
    let batchSize: Int

    /// `distinct` batches of `batchSize` records whose values are `valueSize` bytes and keys absent.
    init(valueSize: Int, batchSize: Int, distinct: Int = 64, seed: UInt64 = 0x5eed) {
        var rng = SplitMix64(seed: seed)
        var batches: [[Record]] = []
        var values: [[Data]] = []
        for _ in 0..<distinct {
            var batch: [Record] = []
            var data: [Data] = []
            batch.reserveCapacity(batchSize)
            for _ in 0..<batchSize {
                let v = Self.eventValue(size: valueSize, rng: &rng)
                batch.append(Record(value: v))
                data.append(Data(v))
            }
            batches.append(batch)
            values.append(data)
        }
        self.batches = batches
        self.values = values
        self.valueSize = valueSize
        self.batchSize = batchSize
    }

    /// The batch for the `i`-th append.
    @inline(__always)
    func batch(_ i: Int) -> [Record] { batches[i % batches.count] }

    /// Bytes of value in one batch.
    var bytesPerBatch: Int { valueSize * batchSize }

    static func eventValue(size: Int, rng: inout SplitMix64) -> [UInt8] {
        let events = ["page_view", "add_to_cart", "checkout", "login", "search", "click"]
        let r = rng.next()
        var text = "{\"user\":\"u-\(r % 100_000)\",\"event\":\"\(events[Int(r >> 20) % events.count])\","
        text += "\"path\":\"/p/\(r >> 40)\",\"ms\":\(1_700_000_000_000 + (r >> 24) % 1_000_000_000),\"seq\":\(rng.next() % 1_000_000)"
        var bytes = Array(text.utf8)
        // Pad with further fields (and cut) to the exact size, keeping it text.
        while bytes.count < size - 1 {
            bytes.append(contentsOf: Array(",\"x\":\(rng.next() % 10_000)".utf8))
        }
        bytes = Array(bytes.prefix(size - 1))
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// A small fixed-seed generator (SplitMix64), so that every run writes the same bytes.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
