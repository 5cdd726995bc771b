import Foundation
import TestSupport
import Testing
@testable import EventLog

/// The library on a real full disk: a small tmpfs of its own (mounting needs root; the test
/// is skipped with the reason when the mount fails). The fault-injected form of the same
/// promise is `RecoveryTests.diskFullFailsTheAppendLeavesNothingVisibleAndRecovers`.
@Suite(.serialized) struct DiskFullTests {
    /// Runs `body` with the path of a fresh tmpfs of `size` (`mount -o size=`), unmounted after.
    static func withSmallDisk(size: String, _ body: (String) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let mountPoint = dir + "/disk"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            let mount = try await ProcessOutput.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint], mergingStandardError: true)
            if mount.status != 0 {
                try Test.cancel("cannot mount a small tmpfs here (needs root): \(mount.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            func unmount() async { _ = try? await ProcessOutput.run("/bin/umount", ["-l", mountPoint]) }
            do {
                try await body(mountPoint)
            } catch {
                await unmount()
                throw error
            }
            await unmount()
        }
    }

    /// `log-dump --verify` on a data directory: its exit status and last lines.
    static func verify(_ dir: String) async throws -> (status: Int32, output: String) {
        let run = try await ProcessOutput.run(try BuiltProduct.logDump.requireBuilt(), [dir, "--verify", "--no-progress"], mergingStandardError: true)
        return (run.status, String(run.stdout.split(separator: "\n").suffix(15).joined(separator: "\n")))
    }

    static func payload(_ i: Int) -> [UInt8] {
        var rng = SplitMix64(seed: UInt64(i))
        return (0..<(16 << 10)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    @Test(.timeLimit(.minutes(2)))
    func aFullDiskFailsAppendsKeepsReadsAndRecoversByItself() async throws {
        try await Self.withSmallDisk(size: "3m") { disk in
            let dir = disk + "/data"
            let store = try await openStore(dir) { $0.cleanerInterval = nil }
            let config = TopicConfiguration(durability: .fsync, segmentBytes: 256 << 10)
            let fill = try await store.createTopic(named: "fill", configuration: config).partitions[0]
            let keep = try await store.createTopic(named: "keep", configuration: config).partitions[0]
            try await keep.append(Record(value: bytes("kept")))
            // Ballast that an operator deletes to free space.
            let ballast = disk + "/ballast"
            #expect(FileManager.default.createFile(atPath: ballast, contents: Data(count: 512 << 10)))

            var acked: [[UInt8]] = []
            var failure: (any Error)?
            for i in 0..<400 {
                do {
                    try await fill.append(Record(value: Self.payload(i)))
                    acked.append(Self.payload(i))
                } catch {
                    failure = error
                    break
                }
            }
            let error = try #require(failure as? LogError, "the disk never filled: \(acked.count) appends")
            #expect(error.code == .diskFull, "\(error)")
            #expect(acked.count > 50)
            #expect(fill.endOffset.rawValue == Int64(acked.count))
            // A full disk is not a failed sync: the partition does not turn read-only.
            #expect(fill.writeFailure == nil)

            // Still full: appends to either topic fail the same way and leave nothing visible.
            for p in [fill, keep] {
                let end = p.endOffset
                let error = await #expect(throws: LogError.self) { try await p.append(Record(value: Self.payload(9999))) }
                #expect(error?.code == .diskFull)
                #expect(p.endOffset == end)
            }
            // Reads keep working, and nothing on disk is corrupt.
            #expect(try await readAll(fill).map { $0.value.map(Array.init) } == acked.map { Optional($0) })
            #expect(try await readAll(keep).map { text($0.value) } == ["kept"])
            let whileFull = try await Self.verify(dir)
            #expect(whileFull.status == 0, "log-dump --verify while full:\n\(whileFull.output)")

            // Space comes back: appends resume by themselves, without a reopen.
            try FileManager.default.removeItem(atPath: ballast)
            let offset = try await fill.append(Record(value: Self.payload(1000)))
            #expect(offset.rawValue == Int64(acked.count))
            acked.append(Self.payload(1000))
            try await keep.append(Record(value: bytes("after")))
            #expect(try await readAll(fill).map { $0.value.map(Array.init) } == acked.map { Optional($0) })
            try await store.close()

            let afterwards = try await Self.verify(dir)
            #expect(afterwards.status == 0, "log-dump --verify after:\n\(afterwards.output)")
            let reopened = try await openStore(dir) { $0.cleanerInterval = nil }
            #expect(try await readAll(reopened.topic(named: "fill")!.partitions[0]).map { $0.value.map(Array.init) } == acked.map { Optional($0) })
            #expect(try await readAll(reopened.topic(named: "keep")!.partitions[0]).map { text($0.value) } == ["kept", "after"])
            try await reopened.close()
        }
    }
}
