/// Scenario 1: what the disk can do without the library.
enum DiskScenario {
    static func run(_ context: BenchmarkContext) async throws {
        let b = context.baselines
        let direct = try b.ddDirect()
        let fdatasync = try b.ddFdatasync()
        let loop = try b.pwriteLoop()
        let syncs = try b.fdatasyncRate()
        let size = Units.bytes(Int64(context.scale.ddBytes))
        let mb = Units.megabytesPerSecond
        context.results.add(.disk, "dd bs=1M oflag=direct, \(size)", figure: mb(direct.median) + direct.range(mb))
        context.results.add(.disk, "dd bs=1M conv=fdatasync, \(size)", figure: mb(fdatasync.median) + fdatasync.range(mb))
        context.results.add(.disk, "Swift pwrite 1 MiB loop + fdatasync, \(size)", figure: mb(loop.median) + loop.range(mb),
                            baseline: "dd conv=fdatasync " + mb(fdatasync.median), ratio: loop.median / fdatasync.median)
        context.results.add(.disk, "4 KiB pwrite + fdatasync (appending), \(Units.fixed(context.scale.fdatasyncSeconds, 0)) s each",
                            figure: Units.rate(syncs.median, unit: "syncs/s") + syncs.range { Units.rate($0, unit: "/s") })
    }
}
