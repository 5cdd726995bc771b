import EventLog
import Foundation
import TestSupport
import Testing

/// `--verify`: a clean log exits 0; each kind of damage exits 1 naming the file and byte position.
@Suite struct VerifyTests {
    @Test(arguments: [CompressionCodec.none, .zstd])
    func aCleanLogVerifies(codec: CompressionCodec) async throws {
        try await withTemporaryDirectory { dir in
            _ = try await SampleLog.write(in: dir, codec: codec)
            let run = try await runDump([dir, "--verify"])
            #expect(run.status == 0, "\(run.stdout)")
            #expect(run.stdout.contains("verify: clean"))
            let json = try await runDump([dir, "--verify", "--json"])
            #expect(json.status == 0)
            #expect((try json.document()["problems"] as? [Any])?.isEmpty == true)
        }
    }

    /// Runs `--verify` (text and JSON) and expects exactly problems of `kind`, the first in `file` at `position`.
    private func expectProblem(_ dir: String, kind: String, file: String, position: Int64?,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let run = try await runDump([dir, "--verify"])
        #expect(run.status == 1, "\(run.stdout)", sourceLocation: sourceLocation)
        let at = position.map { " at byte \($0)" } ?? ""
        #expect(run.stdout.contains("PROBLEM [\(kind)] \(file)\(at)"), "\(run.stdout)", sourceLocation: sourceLocation)
        let json = try await runDump([dir, "--verify", "--json"])
        #expect(json.status == 1, sourceLocation: sourceLocation)
        let problems = try #require(try json.document()["problems"] as? [[String: Any]], sourceLocation: sourceLocation)
        let first = try #require(problems.first, sourceLocation: sourceLocation)
        #expect(first["kind"] as? String == kind, "\(problems)", sourceLocation: sourceLocation)
        #expect(first["file"] as? String == file, sourceLocation: sourceLocation)
        #expect((first["position"] as? Int).map(Int64.init) == position, sourceLocation: sourceLocation)
    }

    @Test func aFlippedByteInABatchIsAChecksumMismatch() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let log = try sample.segmentLogs()[0]
            let batches = try sample.batches(of: log)
            let dump = try await runDump([log]).stdout
            try #require(batches.count >= 3, "\(batches) \(dump)")
            let batch = batches[2]
            let at = batch.position + Int64(batch.size) - 3
            try patch(log, at: at, with: [try readBytes(log)[Int(at)] ^ 0x40])
            try await expectProblem(dir, kind: "checksum-mismatch", file: log, position: batch.position)
            // The summary alone does not check checksums.
            #expect(try await runDump([dir]).status == 0)
        }
    }

    @Test func aTruncatedBatchInASealedSegment() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let log = try sample.segmentLogs()[0]
            let last = try #require(try sample.batches(of: log).last)
            try truncateFile(log, to: last.position + 20)
            try await expectProblem(dir, kind: "truncated-batch", file: log, position: last.position)
        }
    }

    @Test func anIncompleteTailOfTheNewestSegment() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let log = try #require(try sample.segmentLogs().last)
            let last = try #require(try sample.batches(of: log).last)
            try truncateFile(log, to: last.position + Int64(last.size) - 5)
            // Summary: a note, exit 0. Verify: a problem, unless allowed.
            let summary = try await runDump([dir])
            #expect(summary.status == 0)
            #expect(summary.stdout.contains("incomplete tail"))
            try await expectProblem(dir, kind: "incomplete-tail", file: log, position: last.position)
            #expect(try await runDump([dir, "--verify", "--allow-incomplete-tail"]).status == 0)
        }
    }

    @Test func anIndexEntryPointingIntoABatch() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let log = try sample.segmentLogs()[0]
            let index = String(log.dropLast(4)) + ".index"
            let entries = try readBytes(index)
            let dump = try await runDump([dir]).stdout
            try #require(entries.count >= 16, "\(dump)")
            // Entry 1's position, plus 1: inside the batch it named.
            let position = entries[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } + 1
            try patch(index, at: 12, with: withUnsafeBytes(of: position.bigEndian, Array.init))
            try await expectProblem(dir, kind: "index-entry", file: index, position: 8)
            let run = try await runDump([index, "--verify"])
            #expect(run.status == 1)
            #expect(run.stdout.contains("not at a batch start"))
        }
    }

    @Test func aMissingIndex() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let log = try sample.segmentLogs()[1]
            try FileManager.default.removeItem(atPath: String(log.dropLast(4)) + ".index")
            try await expectProblem(dir, kind: "index-missing", file: log, position: nil)
        }
    }

    @Test func aGapBetweenSegments() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let logs = try sample.segmentLogs()
            let stem = String(logs[1].dropLast(4))
            for ext in [".log", ".index", ".timeindex"] { try FileManager.default.removeItem(atPath: stem + ext) }
            try await expectProblem(dir, kind: "segment-gap", file: logs[2], position: 0)
        }
    }

    @Test func aTimeIndexThatIsNotMonotone() async throws {
        try await withTemporaryDirectory { dir in
            let (sample, _) = try await SampleLog.write(in: dir)
            let timeIndex = String(try sample.segmentLogs()[0].dropLast(4)) + ".timeindex"
            try #require(try readBytes(timeIndex).count >= 24)
            // Entry 1's timestamp back to 0.
            try patch(timeIndex, at: 12, with: [UInt8](repeating: 0, count: 8))
            try await expectProblem(dir, kind: "time-index-entry", file: timeIndex, position: 12)
        }
    }
}
