import EventLog

/// Scenario 1, continued: the plain ceiling of the append path.
enum CeilingScenario {
    static func run(_ context: BenchmarkContext) async throws {
        for codec in [CompressionCodec.none, .lz4, .zstd] {
            let c = try context.baselines.ceiling(codec)
            context.results.add(.ceiling, "EncodedBatch alone, 100 B × 100, \(codec), 1 thread", figure: Units.rate(c.encodeOnly))
            context.results.add(.ceiling, "EncodedBatch + pwrite (page cache), \(codec), 1 thread", figure: Units.rate(c.encodeAndWrite),
                                baseline: "encoder alone " + Units.rate(c.encodeOnly), ratio: c.encodeAndWrite / c.encodeOnly)
        }
    }
}
