import CSysShims
import EventLog
import Prometheus
import Synchronization
#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// The server's Prometheus metrics, in a registry of its own (no global bootstrap).
///
/// `eventlog_appended_records_total{topic}` and `eventlog_appended_bytes_total{topic}`,
/// `eventlog_delivery_latency_seconds` (record timestamp to the write of its event),
/// `eventlog_open_streams{kind}`, `eventlog_errors_total{code}`,
/// `eventlog_stuck_streams_closed_total`, `eventlog_connections_refused_total`,
/// `eventlog_connections_closed_total{reason}`, `eventlog_accepting_writes`, and at scrape time
/// `eventlog_disk_bytes{topic}`, `eventlog_append_syncs{topic}`, `eventlog_damaged_ranges{topic, partition}` (for partitions
/// where reads met damaged data), `process_open_fds`, `process_resident_memory_bytes`, and the C heap as
/// its allocator sees it: `process_heap_in_use_bytes` (handed out) and `process_heap_free_held_bytes`
/// (freed, kept by the allocator for reuse, not returned to the kernel), which tell a growing
/// resident size that is live memory from one the allocator keeps.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Partitions that have had an `eventlog_damaged_ranges` gauge, so that it drops to 0 when
    /// retention deletes the damage (bounded by the partitions that ever had damage).
    private let damagedPartitions = Mutex<Set<PartitionLabel>>([])

    private struct PartitionLabel: Hashable {
        var topic: String
        var partition: Int
    }
    private let deliveryLatency: DurationHistogram
    private let openStreams: Gauge
    private let openWebSockets: Gauge

    init() {
        deliveryLatency = registry.makeDurationHistogram(
            descriptor: .init(namespace: "eventlog", metricName: "delivery_latency", unitName: "seconds",
                              helpText: "Time from a record's append timestamp to the write of its stream event."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                      .seconds(2.5), .seconds(5)]
        )
        openStreams = registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "open_streams", unitName: "", helpText: "Open event streams."), labels: [("kind", "sse")])
        openWebSockets = registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "open_streams", unitName: "", helpText: "Open event streams."), labels: [("kind", "websocket")])
    }

    /// A topic's append counters, found once: the registry's lookup builds the labels' text
    /// and takes its lock, 3 % of a single-record produce's CPU (`perf`) when done per request.
    /// Bounded as the registry is, by the topics there have been.
    private let appendCounters = Mutex<[String: (records: Counter, bytes: Counter)]>([:])

    func recordAppend(topic: String, records: Int, bytes: Int) {
        let counters = appendCounters.withLock { cached in
            if let counters = cached[topic] { return counters }
            let counters = (
                records: registry.makeCounter(descriptor: .init(namespace: "eventlog", metricName: "appended_records", unitName: "total", helpText: "Records appended."), labels: [("topic", topic)]),
                bytes: registry.makeCounter(descriptor: .init(namespace: "eventlog", metricName: "appended_bytes", unitName: "total", helpText: "Key and value bytes appended."), labels: [("topic", topic)]))
            cached[topic] = counters
            return counters
        }
        counters.records.increment(by: Int64(records))
        counters.bytes.increment(by: Int64(bytes))
    }

    func recordError(code: String) {
        registry.makeCounter(descriptor: .init(namespace: "eventlog", metricName: "errors", unitName: "total", helpText: "Error answers by code."), labels: [("code", code)])
            .increment()
    }

    /// Records the publish-to-deliver latency of a record written to a stream at `nowMilliseconds`.
    func recordDelivery(timestamp: Int64, nowMilliseconds: Int64) {
        let latency = nowMilliseconds - timestamp
        // Replays and client-set timestamps say nothing about live latency.
        guard latency >= 0, latency < 60_000 else { return }
        deliveryLatency.record(.milliseconds(latency))
    }

    /// Counts a stream closed because its client read nothing past the stuck-stream timeout.
    func stuckStreamClosed() {
        registry.makeCounter(descriptor: .init(namespace: "eventlog", metricName: "stuck_streams_closed", unitName: "total", helpText: "Streams closed because their client stopped reading."))
            .increment()
    }

    /// Counts a request refused because the server has too many open connections.
    func connectionRefused() {
        registry.makeCounter(descriptor: .init(namespace: "eventlog", metricName: "connections_refused", unitName: "total", helpText: "Requests refused over the open-connection limit."))
            .increment()
    }

    /// Counts a connection the server closed below the routes: `idle`, `shutdown`,
    /// `body_timeout`, or the code of the refusal it answered (`headers_too_large`, …).
    func connectionClosed(reason: String) {
        registry.makeCounter(descriptor: .init(namespace: "eventlog", metricName: "connections_closed", unitName: "total",
                                               helpText: "Connections the server closed: idle, refused heads, stalled bodies, shutdown."),
                             labels: [("reason", reason)])
            .increment()
    }

    func streamOpened(webSocket: Bool) { (webSocket ? openWebSockets : openStreams).increment() }
    func streamClosed(webSocket: Bool) { (webSocket ? openWebSockets : openStreams).decrement() }

    /// Sets `eventlog_append_syncs{topic}`: the `fdatasync(2)` calls that acknowledged appends
    /// (``EventLog/Partition/Statistics/syncs``) of each topic's partitions since the start;
    /// appends under `interval` or `none` durability add none.
    func updateAppendSyncs(_ topics: [(topic: String, syncs: Int64)]) {
        for (topic, syncs) in topics {
            registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "append_syncs", unitName: "",
                                                 helpText: "fdatasync(2) calls that acknowledged appends (fsync durability), since start."),
                               labels: [("topic", topic)])
                .set(syncs)
        }
    }

    /// Sets the gauges read at scrape time: disk bytes per topic, open file descriptors, the
    /// shared stream read cache's hits, misses and reads on the I/O threads since the start,
    /// and the streams in live fan-out.
    func updateScrapeGauges(diskBytes: [(topic: String, bytes: Int64)], streamCache: (hits: Int, misses: Int, ioThreadReads: Int), liveStreams: Int,
                            acceptingWrites: Bool) {
        registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "live_fanout_streams", unitName: "",
                                             helpText: "SSE streams caught up and written to by their topic's live fan-out (the rest read on their own)."))
            .set(Int64(liveStreams))
        registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "accepting_writes", unitName: "",
                                             helpText: "1 while appends succeed, 0 while they fail for a disk reason (as /healthz reports)."))
            .set(Int64(acceptingWrites ? 1 : 0))
        registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "stream_read_cache_hits", unitName: "",
                                             helpText: "Stream reads served by another stream's read (since start)."))
            .set(Int64(streamCache.hits))
        registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "stream_read_cache_misses", unitName: "",
                                             helpText: "Stream reads that read the log (since start)."))
            .set(Int64(streamCache.misses))
        registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "stream_reads_on_io_threads", unitName: "",
                                             helpText: "Stream reads of the log that ran on the store's I/O threads because their bytes were not all in the page cache (since start); the others ran inline."))
            .set(Int64(streamCache.ioThreadReads))
        for (topic, bytes) in diskBytes {
            registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "disk", unitName: "bytes", helpText: "Bytes on disk per topic."), labels: [("topic", topic)])
                .set(bytes)
        }
        if let fds = Self.openFileDescriptors() {
            registry.makeGauge(descriptor: .init(namespace: "process", metricName: "open_fds", unitName: "", helpText: "Open file descriptors.")).set(Int64(fds))
        }
        if let resident = Self.residentBytes() {
            registry.makeGauge(descriptor: .init(namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident memory size."))
                .set(resident)
        }
        var (inUse, heldFree): (UInt64, UInt64) = (0, 0)
        if eventlog_heap_usage(&inUse, &heldFree) == 0 {
            registry.makeGauge(descriptor: .init(namespace: "process", metricName: "heap_in_use", unitName: "bytes",
                                                 helpText: "C heap bytes handed out to the program (glibc mallinfo2)."))
                .set(Int64(clamping: inUse))
            registry.makeGauge(descriptor: .init(namespace: "process", metricName: "heap_free_held", unitName: "bytes",
                                                 helpText: "C heap bytes freed by the program and kept by the allocator for reuse (glibc mallinfo2)."))
                .set(Int64(clamping: heldFree))
        }
    }

    /// The resident set size from `/proc/self/statm` (its second field, in pages); `nil` elsewhere.
    private static func residentBytes() -> Int64? {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        var fields = bytes[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1 else { return nil }
        let pages = fields.remove(at: 1).reduce(Int64(0)) { value, digit in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) ? value * 10 + Int64(digit - UInt8(ascii: "0")) : value
        }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Sets `eventlog_damaged_ranges{topic, partition}`: the damaged ranges reads have met in
    /// each partition (``EventLog/Partition/damagedRanges``), for partitions that have or had any.
    func updateDamagedRanges(_ partitions: [Partition]) {
        let seen = damagedPartitions.withLock { $0 }
        for partition in partitions {
            let label = PartitionLabel(topic: partition.topicName, partition: partition.index)
            let count = partition.damagedRanges.count
            guard count > 0 || seen.contains(label) else { continue }
            if count > 0 { damagedPartitions.withLock { _ = $0.insert(label) } }
            registry.makeGauge(descriptor: .init(namespace: "eventlog", metricName: "damaged_ranges", unitName: "",
                                                 helpText: "Ranges of offsets whose stored data reads found damaged (skipped by readers)."),
                               labels: [("topic", label.topic), ("partition", String(label.partition))])
                .set(Int64(count))
        }
    }

    /// Counts the entries of `/proc/self/fd` (Linux); `nil` elsewhere.
    private static func openFileDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return max(0, count - 3)  // ".", ".." and the directory's own descriptor
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

/// Milliseconds since the Unix epoch (`clock_gettime(CLOCK_REALTIME)`).
func currentTimeMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
