/// One run of log-dump: walks PATH, reads what it names, and reports through a ``Reporter``.
struct Dump {
    let settings: DumpSettings

    /// Reads `path` and reports everything found.
    ///
    /// - Returns: the report (its problems decide the exit status).
    /// - Throws: ``DumpError`` when PATH is missing, unreadable or not an EventLog file or directory.
    func run(path: String, reporter: any Reporter) throws(DumpError) -> DumpReport {
        let layout = try DataLayout(path: path)
        let progress = ProgressBar.make(total: layout.logBytes, enabled: settings.progress && settings.verify && !settings.records)
        let session = DumpSession(settings: settings, reporter: reporter, progress: progress)
        var report = DumpReport(path: path, kind: layout.kind, settings: settings, cleanShutdown: layout.cleanShutdown)
        for finding in layout.findings { session.report(finding) }

        if let files = layout.indexSegment {
            report.indexes = [inspectIndex(files, kind: layout.kind, session: session)]
            reporter.index(report.indexes[0])
        }
        for topic in layout.topics {
            reporter.beginTopic(topic)
            var topicReport = DumpReport.Topic(name: topic.name, directory: topic.directory, compacted: topic.compacted)
            for partition in topic.partitions {
                reporter.beginPartition(partition, of: topic)
                let inspector = PartitionInspector(session: session, partition: partition, topic: topic, isDirectory: layout.kind != .log)
                let partitionReport = inspector.inspect()
                reporter.endPartition(partitionReport)
                topicReport.partitions.append(partitionReport)
                topicReport.totals.add(partitionReport.totals)
            }
            reporter.endTopic(topicReport)
            report.topics.append(topicReport)
            report.totals.add(topicReport.totals)
        }
        progress?.finish()
        report.findings = session.findings
        report.recordsPrinted = session.recordsPrinted
        reporter.finish(report)
        return report
    }

    /// An index file given as PATH: its entries; with `--verify` checked against its segment's
    /// `.log` when that is beside it.
    private func inspectIndex(_ files: SegmentFiles, kind: PathKind, session: DumpSession) -> IndexReport {
        var map: BatchMap?
        var logSize: Int64 = 0
        if settings.verify, case .success(let log) = FileEntry.status(of: files.log, followSymlink: false), log.type == .regular {
            var segmentFiles = files
            segmentFiles.logSize = log.size
            let inspector = SegmentInspector(session: session, files: segmentFiles, isNewest: true, gapsExpected: true, printRecords: false)
            let (segment, scanned) = inspector.inspect()
            map = scanned
            logSize = segment.bytes
        } else if settings.verify {
            session.report(.note(.unexpectedFile, files.log, at: nil, "the index's segment is not beside it: its entries are not checked against the log."))
        }
        var indexFiles = files
        indexFiles.hasIndex = kind == .offsetIndex
        indexFiles.hasTimeIndex = kind == .timeIndex
        let verifier = IndexVerifier(session: session, files: indexFiles, map: map, logSize: logSize)
        return kind == .offsetIndex ? verifier.offsetIndex() : verifier.timeIndex()
    }
}
