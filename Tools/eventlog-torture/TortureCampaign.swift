import EventLog
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The embedded torture campaign (`eventlog-torture campaign DIR --rounds N`): starts the
/// writer (``TortureWriter``) again and again, kills it with `SIGKILL` at a random moment or
/// makes it die at a named crash point, and after each death opens the store and checks it:
///
/// - every acknowledged record is there, byte for byte, at its offset (all rounds so far);
/// - offsets are dense from the partition's start to its end;
/// - every record in the log is a whole batch some writer sent, at most once: nothing
///   half-written and nothing written twice is visible;
/// - each idempotent producer's state agrees with the log (the batches the partition
///   remembers are the producer's last ones in the log), and retries after the restart
///   append nothing: the last acknowledged batch, and the batch in flight when the writer
///   died if it reached the log, answer with their offsets; one that did not is appended;
/// - retention deleted whole segments only (every record from the start offset on is there);
/// - compaction kept the latest acknowledged value of every key, and offsets never mix;
/// - the consumer group's committed position is at least the last acknowledged commit;
/// - `log-dump --verify` finds nothing wrong once the store is closed.
///
/// A fresh data directory every ``roundsPerDirectory`` rounds keeps each check's cost bounded.
struct TortureCampaign {
    static let roundsPerDirectory = 25

    /// The named crash points and the largest n of `name:n` armed for each (how often the
    /// writer reaches the point within a round, roughly).
    static let crashPoints: [(name: String, maxHit: Int)] = [
        ("append.written", 300), ("roll.sealed", 12), ("index.flushed", 150), ("checkpoint.renamed", 12),
        ("compaction.committed", 3), ("retention.log-removed", 3), ("append.grouped", 60),
        ("group-commit.appended", 30), ("roll.created", 12), ("compaction.manifest-written", 3),
        ("retention.removed", 3), ("append.synced", 300), ("checkpoint.synced", 12),
        ("compaction.indexes-renamed", 3), ("compaction.old-deleted", 3), ("compaction.renamed", 3),
        ("atomic-write.renamed", 8), ("atomic-write.synced", 8),
    ]

    let base: String
    let rounds: Int
    let seed: UInt64
    let writerBinary: String
    let logDump: String
    /// How many times longer each writer runs before its kill: a sanitizer build is slower.
    let timeScale: Double

    // What was acknowledged in the current data directory.
    struct Ack {
        var partition: Int, first: Int64, count: Int
        var tag: TortureContent.Tag
    }
    var tAcks: [Ack] = []
    var rAcks: [Ack] = []
    var kvAckedEnd: Int64 = 0
    var groupAcked: Int64 = -1

    // Counts for the report.
    var problems: [String] = []
    var randomKills = 0
    var armed: [String: Int] = [:]
    var hit: [String: Int] = [:]
    var recordsChecked = 0
    var acknowledgedRecords = 0
    var retriesChecked = 0
    var verifyRuns = 0
    var writerFailures = 0

    init(base: String, rounds: Int, seed: UInt64, writerBinary: String, logDump: String, timeScale: Double = 1) {
        self.base = base
        self.timeScale = timeScale
        self.rounds = rounds
        self.seed = seed
        self.writerBinary = writerBinary
        self.logDump = logDump
    }

    mutating func problem(_ round: Int, _ text: String) {
        if problems.count < 50 { print("round \(round): PROBLEM: \(text)") }
        problems.append("round \(round): \(text)")
    }

    mutating func run() async -> Bool {
        var rng = SplitMix(seed: seed)
        let started = monotonicMilliseconds()
        print("torture: \(rounds) rounds in \(base), seed \(seed)")
        for round in 0..<rounds {
            let epoch = round / Self.roundsPerDirectory
            let directory = base + "/data-\(epoch)"
            if round % Self.roundsPerDirectory == 0 {
                tAcks = []; rAcks = []; kvAckedEnd = 0; groupAcked = -1
                if epoch > 0 { removeTree(base + "/data-\(epoch - 1)") }
            }
            let codec = ["none", "lz4", "zstd"][epoch % 3]
            var point: (name: String, n: Int)?
            if round % 5 != 4 {
                let p = Self.crashPoints[(Int(seed % 97) + round - round / 5) % Self.crashPoints.count]
                point = (p.name, Int(rng.next() % UInt64(p.maxHit)) + 1)
            }
            let killAfter = Int64(Double(Int64(rng.next() % (point == nil ? 600 : 1500)) + 20) * timeScale)
            await runRound(round, directory: directory, codec: codec, point: point, killAfterMs: killAfter)
            if problems.count > 200 { break }
        }
        let seconds = Double(monotonicMilliseconds() - started) / 1000
        let hits = hit.values.reduce(0, +)
        let pointList = Self.crashPoints.map { "\($0.name) \(hit[$0.name] ?? 0)/\(armed[$0.name] ?? 0)" }.joined(separator: ", ")
        print("torture: crash points (died there / armed): \(pointList)")
        print("torture: \(rounds) rounds in \(Int(seconds)) s: \(randomKills) random SIGKILLs, \(hits) deaths at named crash points, "
              + "\(acknowledgedRecords) acknowledged records, \(recordsChecked) record checks, \(retriesChecked) producer retries, "
              + "\(verifyRuns) log-dump --verify runs; problems: \(problems.count); lost: \(problems.filter { $0.contains("lost") }.count)")
        return problems.isEmpty
    }

    mutating func runRound(_ round: Int, directory: String, codec: String, point: (name: String, n: Int)?, killAfterMs: Int64) async {
        let acksPath = base + "/acks-\(round)"
        let errPath = base + "/writer-\(round).err"
        var env: [String: String] = [:]
        if let point {
            env["EVENTLOG_CRASH_AT"] = "\(point.name):\(point.n)"
            armed[point.name, default: 0] += 1
        }
        guard let child = Subprocess.spawn([writerBinary, "writer", directory, "--round", String(round), "--acks", acksPath, "--codec", codec],
                                           environment: env, stdout: "/dev/null", stderr: errPath) else {
            problem(round, "cannot start \(writerBinary)")
            return
        }
        let spawned = monotonicMilliseconds()
        var readyAt: Int64?
        var ending: Subprocess.Ending?
        while ending == nil {
            usleep(5_000)
            ending = child.poll()
            if ending != nil { break }
            let now = monotonicMilliseconds()
            if readyAt == nil, completeLines(acksPath).first == "READY" { readyAt = now }
            if let readyAt, now - readyAt >= killAfterMs {
                child.kill()
                ending = child.wait()
            } else if readyAt == nil && now - spawned > 30_000 {
                child.kill()
                ending = child.wait()
                problem(round, "the writer did not open the store within 30 s")
            }
        }
        switch ending! {
        case .exited(137):
            hit[point?.name ?? "?", default: 0] += 1
        case .signalled(SIGKILL):
            randomKills += 1
        case let other:
            writerFailures += 1
            let err = String(decoding: readWholeFile(errPath) ?? [], as: UTF8.self)
            problem(round, "the writer ended by itself (\(other)): \(err.suffix(2000))")
        }
        unlink(errPath)
        let lines = completeLines(acksPath)
        unlink(acksPath)
        await check(round, directory: directory, lines: lines)
    }

    // MARK: The checks

    mutating func check(_ round: Int, directory: String, lines: [String]) async {
        var producerAcks: [Int: [Int: Ack]] = [:]  // k → sequence → ack
        for line in lines {
            let f = line.split(separator: " ").map(String.init)
            switch f.first {
            case "T" where f.count == 6:
                let count = Int(f[3])!
                tAcks.append(Ack(partition: Int(f[1])!, first: Int64(f[2])!, count: count,
                                 tag: .init(round: round, writer: f[4], sequence: Int(f[5])!, index: 0, count: count)))
                acknowledgedRecords += count
            case "P" where f.count == 6:
                let count = Int(f[3])!, k = Int(f[4])!, s = Int(f[5])!
                let ack = Ack(partition: Int(f[1])!, first: Int64(f[2])!, count: count,
                              tag: .init(round: round, writer: "p\(k)", sequence: s, index: 0, count: count))
                tAcks.append(ack)
                producerAcks[k, default: [:]][s] = ack
                acknowledgedRecords += count
            case "R" where f.count == 4:
                let count = Int(f[2])!
                rAcks.append(Ack(partition: 0, first: Int64(f[1])!, count: count,
                                 tag: .init(round: round, writer: "r", sequence: Int(f[3])!, index: 0, count: count)))
                acknowledgedRecords += count
            case "K" where f.count == 2:
                let end = Int64(f[1])!
                acknowledgedRecords += Int(max(0, end - kvAckedEnd))
                kvAckedEnd = max(kvAckedEnd, end)
            case "G" where f.count == 2:
                groupAcked = max(groupAcked, Int64(f[1])!)
            case "READY":
                break
            default:
                problem(round, "an acknowledgement line the checker cannot read: \(line)")
            }
        }

        var logger = Logger(label: "eventlog-torture-check")
        logger.logLevel = .critical
        do {
            let store = try await LogStore.open(at: directory, options: TortureWriter.storeOptions(), logger: logger)
            if let t = store.topic(named: "t") {
                try await checkMain(round, t, producerAcks: producerAcks)
            } else if !tAcks.isEmpty {
                problem(round, "topic t is lost")
            }
            if let r = store.topic(named: "r") { try await checkRetained(round, r.partitions[0]) }
            if let kv = store.topic(named: "kv") { try await checkCompacted(round, kv.partitions[0]) }
            if store.topic(named: GroupCoordinator.offsetsTopicName) != nil || groupAcked >= 0 {
                let groups = try await GroupCoordinator.open(store: store, logger: logger)
                let committed = await groups.committedOffset(for: TortureWriter.group, TopicPartition("t", 0))?.offset.rawValue ?? -1
                if committed < groupAcked {
                    problem(round, "the group's committed position \(committed) is older than the last acknowledged commit \(groupAcked): lost")
                }
                await groups.close()
            }
            try await store.close()
        } catch {
            problem(round, "recovery or a check failed: \(error)")
            return
        }
        // No file of a deleted segment is left behind (a retention or compaction interrupted
        // between the unlinks of a segment's files must not leave its indexes forever).
        for topic in ["t", "r", "kv", GroupCoordinator.offsetsTopicName] {
            for partition in listDirectory(directory + "/topics/" + topic) where Int(partition) != nil {
                let files = Set(listDirectory(directory + "/topics/" + topic + "/" + partition))
                for file in files where file.hasSuffix(".index") || file.hasSuffix(".timeindex") {
                    let stem = String(file.prefix { $0 != "." })
                    if !files.contains(stem + ".log") {
                        problem(round, "\(topic)/\(partition): \(file) is left without its segment's log")
                    }
                }
            }
        }
        // Every other round, the next writer opens without the clean marker: a recovery of a
        // store whose files are all synced.
        if round % 2 == 1 { unlink(directory + "/.clean-shutdown") }

        verifyRuns += 1
        let out = base + "/verify-\(round).txt"
        guard let child = Subprocess.spawn([logDump, directory, "--verify", "--no-progress"], stdout: out, stderr: out) else {
            problem(round, "cannot start \(logDump)")
            return
        }
        let ending = child.wait()
        let text = String(decoding: readWholeFile(out) ?? [], as: UTF8.self)
        unlink(out)
        if ending != .exited(0) {
            problem(round, "log-dump --verify: \(ending): \(text.split(separator: "\n").filter { $0.contains("PROBLEM") || $0.hasPrefix("verify") }.prefix(20).joined(separator: "\n"))")
            keepForInspection(round, directory)
        }
    }

    /// Copies a data directory that failed a check next to the campaign's, for a post-mortem.
    func keepForInspection(_ round: Int, _ directory: String) {
        let copy = base + "/failed-round-\(round)"
        if let child = Subprocess.spawn(["/bin/cp", "-a", directory, copy], stdout: "/dev/null", stderr: "/dev/null") {
            _ = child.wait()
            print("round \(round): the data directory is kept in \(copy)")
        }
    }

    /// A partition's records from its start, with the offsets checked dense.
    mutating func readAll(_ round: Int, _ p: Partition) async throws -> [StoredRecord] {
        var out: [StoredRecord] = []
        var next = p.startOffset
        let end = p.endOffset
        while next < end {
            let r = try await p.read(from: next, maxRecords: 10_000, maxBytes: 8 << 20)
            if r.records.isEmpty { break }
            out += r.records
            next = r.nextOffset
        }
        let start = p.startOffset.rawValue
        for (i, r) in out.enumerated() where r.offset.rawValue != start + Int64(i) {
            problem(round, "\(p.topicName)/\(p.index): offset \(start + Int64(i)) holds offset \(r.offset.rawValue): not dense")
            break
        }
        if start + Int64(out.count) != end.rawValue {
            problem(round, "\(p.topicName)/\(p.index): read \(out.count) records from \(start), but the end is \(end.rawValue)")
        }
        return out
    }

    /// Walks records of tagged batches: each must be its tag's bytes, batches whole and in
    /// their order, each batch at most once. Returns where each batch starts.
    mutating func scanBatches(_ round: Int, _ where_: String, _ records: [StoredRecord]) -> [BatchKey: (first: Int64, count: Int)] {
        var batches: [BatchKey: (first: Int64, count: Int)] = [:]
        var i = 0
        while i < records.count {
            let r = records[i]
            guard let tag = TortureContent.tag(of: r.value.map(Array.init)), tag.index == 0 else {
                problem(round, "\(where_): offset \(r.offset.rawValue) is not the start of a batch any writer sent: half-written or foreign")
                i += 1
                continue
            }
            var whole = true
            for k in 0..<tag.count {
                var expected = tag
                expected.index = k
                if i + k >= records.count || !TortureContent.matches(records[i + k], expected) {
                    problem(round, "\(where_): batch \(tag) is not whole or not byte for byte at offset \(r.offset.rawValue + Int64(k))")
                    whole = false
                    break
                }
            }
            let key = BatchKey(round: tag.round, writer: tag.writer, sequence: tag.sequence)
            if batches[key] != nil {
                problem(round, "\(where_): batch \(tag) is in the log twice (offsets \(batches[key]!.first) and \(r.offset.rawValue))")
            }
            batches[key] = (r.offset.rawValue, tag.count)
            i += whole ? tag.count : 1
        }
        return batches
    }

    struct BatchKey: Hashable {
        var round: Int, writer: String, sequence: Int
    }

    mutating func checkAcks(_ round: Int, _ acks: [Ack], partition: Int, in batches: [BatchKey: (first: Int64, count: Int)], startOffset: Int64, name: String) {
        for ack in acks where ack.partition == partition {
            let key = BatchKey(round: ack.tag.round, writer: ack.tag.writer, sequence: ack.tag.sequence)
            if ack.first < startOffset {
                if ack.first + Int64(ack.count) > startOffset {
                    problem(round, "\(name): retention cut acknowledged batch \(ack.tag) at \(ack.first) in two (start \(startOffset))")
                }
                continue
            }
            recordsChecked += ack.count
            guard let found = batches[key] else {
                problem(round, "\(name): acknowledged batch \(ack.tag) at \(ack.first)..<\(ack.first + Int64(ack.count)) is lost")
                continue
            }
            if found.first != ack.first || found.count != ack.count {
                problem(round, "\(name): acknowledged batch \(ack.tag) was at \(ack.first), is at \(found.first) (lost at its offset)")
            }
        }
    }

    mutating func checkMain(_ round: Int, _ t: Topic, producerAcks: [Int: [Int: Ack]]) async throws {
        var batchesByPartition: [[BatchKey: (first: Int64, count: Int)]] = []
        for p in t.partitions {
            let records = try await readAll(round, p)
            let batches = scanBatches(round, "t/\(p.index)", records)
            checkAcks(round, tAcks, partition: p.index, in: batches, startOffset: p.startOffset.rawValue, name: "t/\(p.index)")
            batchesByPartition.append(batches)
        }
        // The idempotent producers of this round.
        for k in 0..<TortureWriter.producers {
            let p = t.partitions[k]
            let id = TortureWriter.producerID(round: round, k: k)
            let inLog = batchesByPartition[k].filter { $0.key.round == round && $0.key.writer == "p\(k)" }
                .sorted { $0.key.sequence < $1.key.sequence }
            if inLog.enumerated().contains(where: { $0.offset != $0.element.key.sequence }) {
                problem(round, "t/\(k): producer p\(k)'s batches in the log skip a sequence: \(inLog.map(\.key.sequence))")
            }
            // The partition remembers the producer's last (up to) five batches of the log.
            func baseSequence(_ s: Int) -> Int32 {
                Int32((0..<s).reduce(0) { $0 + TortureContent.count(round: round, writer: "p\(k)", sequence: $1) })
            }
            let expected = inLog.suffix(5).map { (baseSequence($0.key.sequence), $0.value.count) }
            let remembered = p.producerBatches(id)?.batches ?? []
            if remembered.map(\.firstSequence) != expected.map(\.0) || remembered.map(\.count) != expected.map(\.1) {
                problem(round, "t/\(k): producer state \(remembered) disagrees with the log \(expected)")
            }
            // Retries after the restart append nothing.
            let lastAcked = producerAcks[k]?.keys.max()
            if let s = lastAcked, let ack = producerAcks[k]?[s] {
                let end = p.endOffset
                let range = try await p.append(TortureContent.batch(round: round, writer: "p\(k)", sequence: s),
                                               producer: ProducerStamp(producerID: id, epoch: 0, baseSequence: baseSequence(s)))
                retriesChecked += 1
                if range.first.rawValue != ack.first || range.count != Int64(ack.count) || p.endOffset != end {
                    problem(round, "t/\(k): a retry of acknowledged batch \(s) of p\(k) answered \(range) (acknowledged at \(ack.first)), end \(end) → \(p.endOffset)")
                }
            }
            let s = (lastAcked ?? -1) + 1
            let end = p.endOffset
            let count = TortureContent.count(round: round, writer: "p\(k)", sequence: s)
            let range = try await p.append(TortureContent.batch(round: round, writer: "p\(k)", sequence: s),
                                           producer: ProducerStamp(producerID: id, epoch: 0, baseSequence: baseSequence(s)))
            retriesChecked += 1
            if let found = batchesByPartition[k][BatchKey(round: round, writer: "p\(k)", sequence: s)] {
                // The batch in flight reached the log: the retry is answered with its offsets.
                if range.first.rawValue != found.first || p.endOffset != end {
                    problem(round, "t/\(k): a retry of unacknowledged batch \(s) of p\(k), which is in the log at \(found.first), answered \(range) and moved the end \(end) → \(p.endOffset): written twice")
                }
            } else if range.first != end || range.count != Int64(count) {
                problem(round, "t/\(k): batch \(s) of p\(k), not in the log, was appended at \(range), expected at \(end)")
            } else {
                // Acknowledged now: later rounds check it too.
                tAcks.append(Ack(partition: k, first: range.first.rawValue, count: count,
                                 tag: .init(round: round, writer: "p\(k)", sequence: s, index: 0, count: count)))
                acknowledgedRecords += count
            }
        }
    }

    mutating func checkRetained(_ round: Int, _ p: Partition) async throws {
        let records = try await readAll(round, p)
        let batches = scanBatches(round, "r/0", records)
        checkAcks(round, rAcks, partition: 0, in: batches, startOffset: p.startOffset.rawValue, name: "r/0")
        let ackedEnd = rAcks.map { $0.first + Int64($0.count) }.max() ?? 0
        if p.endOffset.rawValue < ackedEnd {
            problem(round, "r/0: the end \(p.endOffset.rawValue) is before the last acknowledged record's end \(ackedEnd): lost")
        }
    }

    mutating func checkCompacted(_ round: Int, _ p: Partition) async throws {
        var records: [StoredRecord] = []
        var next = p.startOffset
        while next < p.endOffset {
            let r = try await p.read(from: next, maxRecords: 10_000)
            if r.records.isEmpty { break }
            records += r.records
            next = r.nextOffset
        }
        var latest: [String: Int64] = [:]
        var previous: Int64 = -1
        for r in records {
            let o = r.offset.rawValue
            if o <= previous { problem(round, "kv/0: offset \(o) after \(previous): out of order or repeated") }
            previous = o
            let key = String(decoding: r.key.map(Array.init) ?? [], as: UTF8.self)
            if key != "k\(o % TortureWriter.kvKeys)" || r.value.map(Array.init) != Array("v\(o)".utf8) {
                problem(round, "kv/0: offset \(o) holds \(key)=\(String(decoding: r.value.map(Array.init) ?? [], as: UTF8.self)): a mix of old and new segments")
            }
            latest[key] = o
        }
        if p.endOffset.rawValue < kvAckedEnd {
            problem(round, "kv/0: the end \(p.endOffset.rawValue) is before the acknowledged end \(kvAckedEnd): lost")
        }
        for k in 0..<min(TortureWriter.kvKeys, kvAckedEnd) {
            let latestAcked = k + ((kvAckedEnd - 1 - k) / TortureWriter.kvKeys) * TortureWriter.kvKeys
            recordsChecked += 1
            if (latest["k\(k)"] ?? -1) < latestAcked {
                problem(round, "kv/0: key k\(k) lost its latest acknowledged value (offset \(latestAcked))")
            }
        }
    }
}

/// SplitMix64, seeded.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 { TortureContent.next(&state) }
}

/// The names in a directory (none when it cannot be read).
func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Removes a directory tree (the campaign's own scratch directories).
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        for name in listDirectory(path) { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}
