import EventLog

/// Baselines measured once per run, on first use, so that every figure that needs one is
/// compared with a measurement from the same run whichever scenarios are selected. Disk
/// figures are the median of ``Scale/rounds`` measurements: the machine is shared.
final class Baselines {
    private unowned let context: BenchmarkContext
    private var ddDirectCache: Spread?
    private var ddFdatasyncCache: Spread?
    private var pwriteCache: Spread?
    private var fdatasyncCache: Spread?
    private var ceilings: [CompressionCodec: PlainCeiling.Figures] = [:]

    init(context: BenchmarkContext) {
        self.context = context
    }

    private var scratchFile: String { context.work.path + "/probe.dat" }
    private var rounds: Int { context.scale.rounds }
    private var size: String { Units.bytes(Int64(context.scale.ddBytes)) }

    private func repeated(_ body: () throws -> Double) rethrows -> Spread {
        Spread(try (0..<rounds).map { _ in try body() })
    }

    /// `dd … oflag=direct`: bytes per second.
    func ddDirect() throws -> Spread {
        if let v = ddDirectCache { return v }
        let v = try repeated { try DiskProbe.dd(file: scratchFile, bytes: context.scale.ddBytes, flag: "oflag=direct") }
        print("  baseline: dd bs=1M oflag=direct, \(size): \(Units.megabytesPerSecond(v.median))\(v.range(Units.megabytesPerSecond))")
        ddDirectCache = v
        return v
    }

    /// `dd … conv=fdatasync`: bytes per second.
    func ddFdatasync() throws -> Spread {
        if let v = ddFdatasyncCache { return v }
        let v = try repeated { try DiskProbe.dd(file: scratchFile, bytes: context.scale.ddBytes, flag: "conv=fdatasync") }
        print("  baseline: dd bs=1M conv=fdatasync, \(size): \(Units.megabytesPerSecond(v.median))\(v.range(Units.megabytesPerSecond))")
        ddFdatasyncCache = v
        return v
    }

    /// A Swift `pwrite` loop of 1 MiB buffers and a final `fdatasync`: bytes per second.
    func pwriteLoop() throws -> Spread {
        if let v = pwriteCache { return v }
        let v = try repeated { try DiskProbe.pwriteLoop(file: scratchFile, bytes: context.scale.ddBytes) }
        print("  baseline: pwrite 1 MiB loop + fdatasync, \(size): \(Units.megabytesPerSecond(v.median))\(v.range(Units.megabytesPerSecond))")
        pwriteCache = v
        return v
    }

    /// 4 KiB `pwrite` + `fdatasync` appends per second.
    func fdatasyncRate() throws -> Spread {
        if let v = fdatasyncCache { return v }
        let v = try measureFdatasyncRate()
        fdatasyncCache = v
        return v
    }

    /// A new measurement of the `fdatasync` rate (for interleaving with a scenario's own rounds).
    func measureFdatasyncRate(rounds: Int? = nil) throws -> Spread {
        let v = Spread(try (0..<(rounds ?? self.rounds)).map { _ in
            try DiskProbe.fdatasyncRate(file: scratchFile, seconds: context.scale.fdatasyncSeconds)
        })
        print("  baseline: 4 KiB pwrite + fdatasync appends: \(Units.rate(v.median, unit: "syncs/s"))\(v.range { Units.rate($0, unit: "/s") })")
        return v
    }

    /// One `dd` run now (for interleaving with a scenario's own rounds).
    func measureDD(flag: String) throws -> Double {
        try DiskProbe.dd(file: scratchFile, bytes: context.scale.ddBytes, flag: flag)
    }

    /// The plain ceiling for 100-byte records in batches of 100 with `codec`.
    func ceiling(_ codec: CompressionCodec) throws -> PlainCeiling.Figures {
        if let v = ceilings[codec] { return v }
        let workload = context.workload100
        var best: PlainCeiling.Figures?
        for _ in 0..<rounds {
            let f = try PlainCeiling.measure(file: scratchFile, workload: workload, records: context.scale.ceilingRecords, codec: codec)
            if best == nil || f.encodeAndWrite > best!.encodeAndWrite { best = f }
        }
        let v = best!
        print("  baseline: plain ceiling \(codec) (1 thread, best of \(rounds)): EncodedBatch alone \(Units.rate(v.encodeOnly)), "
            + "EncodedBatch + pwrite \(Units.rate(v.encodeAndWrite)), \(Units.fixed(v.bytesPerRecordOnDisk, 1)) B/record on disk")
        ceilings[codec] = v
        return v
    }
}
