import Foundation
import GRDB

/// The SQLite baselines, through GRDB: the same values in a table `events(id INTEGER PRIMARY KEY, value BLOB)`.
enum SQLiteBaseline {
    /// A `DatabasePool` (WAL journal) whose writer connection runs with `PRAGMA synchronous = <level>`.
    ///
    /// GRDB sets `synchronous = NORMAL` itself when it turns WAL on (after `prepareDatabase`),
    /// so the level is set on the pool's single writer connection afterwards, and checked.
    static func openPool(at path: String, synchronous: String) throws -> DatabasePool {
        let pool = try DatabasePool(path: path, configuration: Configuration())
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, value BLOB NOT NULL)")
        }
        let settings = try settings(of: pool)
        guard settings.hasSuffix("synchronous=\(synchronous)") else {
            throw BenchmarkError("SQLite runs with \(settings), not synchronous=\(synchronous)")
        }
        return pool
    }

    /// The journal mode and synchronous level in force, as SQLite reports them (to print with the figure).
    static func settings(of pool: DatabasePool) throws -> String {
        try pool.writeWithoutTransaction { db in
            let journal = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
            let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            let names = [0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"]
            return "journal_mode=\(journal), synchronous=\(names[sync] ?? String(sync))"
        }
    }

    /// One writer inserting `batches` batches, one transaction per batch: the interval.
    static func insertBatches(into pool: DatabasePool, workload: Workload, batches: Int) throws -> Stopwatch.Interval {
        let watch = Stopwatch()
        for i in 0..<batches {
            let values = workload.values[i % workload.values.count]
            try pool.write { db in
                let statement = try db.cachedStatement(sql: "INSERT INTO events(value) VALUES (?)")
                for v in values {
                    try statement.execute(arguments: [v])
                }
            }
        }
        return watch.stop()
    }

    /// `writers` tasks each inserting one row per transaction until `seconds` have passed.
    static func concurrentSingleRowWriters(pool: DatabasePool, workload: Workload, writers: Int, seconds: Double) async throws -> (count: Int, interval: Stopwatch.Interval) {
        let deadline = Stopwatch.monotonicNanoseconds() + UInt64(seconds * 1e9)
        let watch = Stopwatch()
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<writers {
                let values = workload.values[w % workload.values.count]
                group.addTask {
                    var n = 0
                    while Stopwatch.monotonicNanoseconds() < deadline {
                        let v = values[n % values.count]
                        try await pool.write { db in
                            try db.execute(sql: "INSERT INTO events(value) VALUES (?)", arguments: [v])
                        }
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        return (count, watch.stop())
    }

    /// Rows in the table (a check that every insert landed).
    static func rowCount(_ pool: DatabasePool) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 }
    }
}
