import EventLog
import KafkaProtocol

extension Mirror {
    /// The next wave: the first queued batch of each source partition, as target batches. By
    /// source partition, a whole batch goes as it is (records, codec and timestamps byte for
    /// byte; only the producer stamp and CRC change); by key, records are regrouped per target
    /// partition and encoded again (keys, values, headers and timestamps kept).
    func buildWave() throws {
        precondition(wave.isEmpty && waveAdvances.isEmpty, "one wave at a time")
        var byKey: [String: [Int: [Record]]] = [:]
        var keyCodec: [String: CompressionCodec] = [:]
        var keyBytes = 0
        for tp in queue.keys.sorted() {
            guard var pending = queue[tp], let batch = pending.first, let route = routes[tp.topic], let position = positions[tp] else { continue }
            if !route.bySourcePartition && keyBytes > 0 && keyBytes + batch.bytes.count > settings.partitionMaxBytes {
                continue   // the next wave takes it: a target batch stays within a partition's fetch size
            }
            pending.removeFirst()
            queue[tp] = pending
            waveAdvances[tp] = batch.nextOffset
            mirroredBatches += 1
            if batch.isControl { continue }
            let whole = batch.baseOffset >= position
            if route.bySourcePartition && whole {
                wave.append(TargetBatch(target: tp, bytes: Array(batch.bytes), recordCount: batch.recordCount))
                waveRecords += batch.recordCount
                continue
            }
            let records = try batch.records(in: tp).filter { $0.offset.rawValue >= position }
            guard !records.isEmpty else { continue }
            waveRecords += records.count
            if route.bySourcePartition {
                wave.append(TargetBatch(target: tp, bytes: try encode(records.map(\.record), codec: batch.codec ?? .none), recordCount: records.count))
            } else {
                keyBytes += batch.bytes.count
                if keyCodec[tp.topic] == nil, let codec = batch.codec { keyCodec[tp.topic] = codec }
                for record in records {
                    let partition: Int
                    if let key = record.key {
                        partition = Int(Murmur2.hash(key) & 0x7fff_ffff) % route.targetPartitions
                    } else {
                        partition = tp.partition % route.targetPartitions
                    }
                    byKey[tp.topic, default: [:]][partition, default: []].append(record.record)
                }
            }
        }
        for (topic, partitions) in byKey {
            for (partition, records) in partitions {
                wave.append(TargetBatch(target: TopicPartition(topic, partition),
                                        bytes: try encode(records, codec: keyCodec[topic] ?? .none), recordCount: records.count))
            }
        }
    }

    private func encode(_ records: [Record], codec: CompressionCodec) throws -> [UInt8] {
        do {
            return try EncodedBatch(records: records, codec: codec, now: StatusReporter.nowWallMs()).bytes
        } catch {
            throw MirrorError("records cannot be encoded for the target: \(error.message)")
        }
    }
}
