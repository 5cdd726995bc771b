import Foundation
import TestSupport
import Testing
@testable import EventLog

/// `kill -9` a process appending with `fsync` durability at random moments, then check that
/// every acknowledged record is there, byte for byte, at its offset.
@Suite(.serialized) struct KillTests {
    struct Ack {
        var partition: Int, first: Int64, count: Int, writer: Int, sequence: Int
    }

    @Test(.timeLimit(.minutes(5)))
    func killMinus9WhileAppendingLosesNoAcknowledgedRecord() async throws {
        let binary = try BuiltProduct.torture.requireBuilt()
        try await withTemporaryDirectory { dir in
            var allAcks: [Ack] = []
            var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
            for round in 0..<24 {
                let codec = ["none", "lz4", "zstd"][round % 3]
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = [dir, "--writers", "8", "--codec", codec]
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                try process.run()
                let collector = LineCollector(pipe.fileHandleForReading)
                // Wait for it to be ready, then let it run a random while.
                let ready = try await collector.firstLine(within: .seconds(30)) { $0 == "READY" }
                try #require(ready != nil, "round \(round): the writer did not start")
                try await Task.sleep(for: .milliseconds(Int.random(in: 30...400, using: &rng)))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                let lines = collector.finish()
                let acks = lines.compactMap { line -> Ack? in
                    let f = line.split(separator: " ")
                    guard f.count == 6, f[0] == "ACK", let p = Int(f[1]), let o = Int64(f[2]), let c = Int(f[3]),
                          let w = Int(f[4]), let s = Int(f[5]) else { return nil }
                    return Ack(partition: p, first: o, count: c, writer: w, sequence: s)
                }
                #expect(!acks.isEmpty, "round \(round) acknowledged nothing")
                allAcks += acks

                // Recover and check every acknowledgement so far, from this round and the ones before.
                let store = try await openStore(dir)
                let topic = try #require(store.topic(named: "torture"))
                var stored: [[StoredRecord]] = []
                for p in topic.partitions { stored.append(try await readAll(p)) }
                for (p, records) in stored.enumerated() {
                    #expect(records.map(\.offset.rawValue) == Array(0..<Int64(records.count)), "round \(round): offsets of partition \(p) are not dense")
                }
                // A sequence number restarts with each process, so earlier rounds' acks are checked by offset only.
                for ack in allAcks {
                    let records = stored[ack.partition]
                    guard ack.first + Int64(ack.count) <= Int64(records.count) else {
                        Issue.record("round \(round): acknowledged offsets \(ack.first)..<\(ack.first + Int64(ack.count)) of partition \(ack.partition) are missing (end \(records.count))")
                        continue
                    }
                    for i in 0..<ack.count {
                        let value = text(records[Int(ack.first) + i].value)
                        let expected = "w\(ack.writer)-s\(ack.sequence)-r\(i)"
                        if value != expected {
                            Issue.record("round \(round): offset \(ack.first + Int64(i)) holds \(value ?? "nil"), expected \(expected)")
                        }
                    }
                }
                try await store.close()
                // The next round starts from a clean state or, every other round, from a crash-only state.
                if round % 2 == 1 { try? FileManager.default.removeItem(atPath: dir + "/.clean-shutdown") }
            }
            #expect(allAcks.count > 100)
        }
    }
}

/// `kill -9` during compaction, at random moments and at the swap's named crash points.
@Suite(.serialized) struct CompactionKillTests {
    @Test(.timeLimit(.minutes(5)))
    func killDuringCompactionLeavesOldOrNewSetNeverAMix() async throws {
        let binary = try BuiltProduct.torture.requireBuilt()
        try await withTemporaryDirectory { dir in
            var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
            var ackedEnd: Int64 = 0
            var compactions = 0
            var crashPointExits = 0
            for round in 0..<24 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = ["compact", dir]
                var env = ProcessInfo.processInfo.environment
                switch round % 3 {
                case 0: env["EVENTLOG_CRASH_AT"] = "compaction.committed:\(Int.random(in: 1...6, using: &rng))"
                case 1: env["EVENTLOG_CRASH_AT"] = "compaction.old-deleted:\(Int.random(in: 1...6, using: &rng))"
                default: env["EVENTLOG_CRASH_AT"] = nil
                }
                process.environment = env
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                try process.run()
                let collector = LineCollector(pipe.fileHandleForReading)
                // A sanitizer build runs slower: the writer gets as much more time (TimeScale).
                let deadline = Date().addingTimeInterval(Double.random(in: 0.3...1.2, using: &rng) * TimeScale.factor)
                while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                if process.terminationReason == .exit && process.terminationStatus == 137 { crashPointExits += 1 }
                let lines = collector.finish()
                compactions += lines.filter { $0 == "COMPACTED" }.count
                for line in lines where line.hasPrefix("ACK ") { ackedEnd = max(ackedEnd, Int64(line.dropFirst(4)) ?? 0) }

                let store = try await openStore(dir) { $0.cleanerInterval = nil }
                let p = try #require(store.topic(named: "kv")?.partitions[0])
                let records = try await readAll(p)
                let offsets = records.map(\.offset.rawValue)
                #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count, "round \(round): offsets out of order or repeated")
                var latestPresent: [String: Int64] = [:]
                for r in records {
                    let o = r.offset.rawValue
                    if text(r.key) != "k\(o % 97)" || text(r.value) != "v\(o)" {
                        Issue.record("round \(round): offset \(o) holds \(text(r.key) ?? "nil")=\(text(r.value) ?? "nil")")
                    }
                    latestPresent[text(r.key)!] = o
                }
                #expect(p.endOffset.rawValue >= ackedEnd, "round \(round): acknowledged records are missing")
                // The latest acknowledged record of every key is there (or a later one of the same key).
                for k in 0..<97 where Int64(k) < ackedEnd {
                    let latestAcked = Int64(k) + ((ackedEnd - 1 - Int64(k)) / 97) * 97
                    #expect((latestPresent["k\(k)"] ?? -1) >= latestAcked, "round \(round): key k\(k) lost its latest value (offset \(latestAcked))")
                }
                // No swap leftovers after recovery.
                let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/topics/kv/0")
                #expect(!files.contains { $0.hasSuffix(".swap") || $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap-manifest") }, "round \(round): \(files)")
                try await store.close()
            }
            #expect(compactions > 0)
            #expect(crashPointExits >= 4, "the named crash points fired \(crashPointExits) times")
            #expect(ackedEnd > 1000)
        }
    }
}
