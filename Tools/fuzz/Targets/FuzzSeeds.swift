import EventLog
import Foundation

extension FuzzTargets {
    /// Writes a seed corpus for every target into `directory/<target>/`, from real data:
    /// batches the encoder makes with each codec, index and checkpoint files of a real
    /// partition, configuration files the engine writes.
    public static func writeSeeds(to directory: String) throws {
        func write(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
            let dir = directory + "/" + target
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
        }
        let samples: [[Record]] = [
            [Record(value: "one")],
            [Record(key: "k", value: nil, timestamp: 5)],
            (0..<5).map { i in
                Record(key: "key-\(i)", value: Array(repeating: UInt8(65 + i), count: 40),
                       headers: [RecordHeader(name: "type", value: "t\(i)"), RecordHeader(name: "n", value: [UInt8(i)])],
                       timestamp: 1_700_000_000_000 + Int64(i) * 1000)
            },
        ]
        for codec in [CompressionCodec.none, .lz4, .zstd] {
            for (i, records) in samples.enumerated() {
                let batch = try EncodedBatch(records: records, codec: codec, now: 1_700_000_000_000)
                try write("record-batch", "\(codec)-\(i)", batch.bytes)
                // The fields target: the header's values, then the records section.
                var fields = [UInt8](repeating: 0, count: 8)
                fields += batch.bytes[27..<35]                       // base timestamp
                fields += batch.bytes[23..<27]                       // last offset delta
                fields += batch.bytes[57..<61]                       // record count
                fields.append(UInt8(codec == .none ? 0 : codec == .lz4 ? 1 : 2))
                fields += batch.bytes[61...]
                try write("record-batch-fields", "\(codec)-\(i)", fields)
                try write("recovery-tail", "\(codec)-\(i)-whole", [UInt8(codec == .none ? 0 : codec == .lz4 ? 1 : 2)] + batch.bytes)
                try write("recovery-tail", "\(codec)-\(i)-torn", [UInt8(codec == .none ? 0 : codec == .lz4 ? 1 : 2)] + batch.bytes.dropLast(7))
            }
        }
        let template = RecoveryTemplate.shared.directory
        for topic in ["none", "lz4", "zstd"] {
            let partition = template + "/topics/\(topic)/0"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: partition)) ?? []).sorted()
            for name in names where name.hasSuffix(".index") || name.hasSuffix(".timeindex") {
                guard let data = FileManager.default.contents(atPath: partition + "/" + name) else { continue }
                let logSize = (try? FileManager.default.attributesOfItem(atPath: partition + "/" + name.split(separator: ".")[0] + ".log"))?[.size] as? Int64 ?? 0
                var bytes = [UInt8]()
                withUnsafeBytes(of: logSize.bigEndian) { bytes += $0 }
                try write("indexes", "\(topic)-\(name)", bytes + Array(data))
            }
            if let checkpoint = FileManager.default.contents(atPath: partition + "/recovery-checkpoint") {
                try write("recovery-checkpoint", topic, Array(checkpoint))
            }
            if let conf = FileManager.default.contents(atPath: template + "/topics/\(topic)/topic.conf") {
                try write("topic-config", topic, Array(conf))
            }
        }
        var compacted = TopicConfiguration(partitions: 3, compression: .zstd, durability: .interval(.milliseconds(250)), cleanupPolicy: [.compact, .delete])
        compacted.isInternal = true
        try write("topic-config", "compacted", compacted.encodedFile())
    }
}
