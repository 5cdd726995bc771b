import ArgumentParser
import EventLogClient
import Foundation

struct Produce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append records: one per line of standard input (or --file), or one --value.",
        discussion: """
            Each line's bytes are a record's value, as kcat -P does (with --json, each line is a \
            JSON value). Lines are sent in batches; the command stops with exit code 1 at the \
            first batch the server refuses, saying why, after printing what was appended before it \
            (with --json, a line that is not one JSON value stops it before its batch is sent, \
            naming the line).

              seq 1 1000 | logctl produce numbers
              logctl produce orders --key order-42 --type order.created --value '{"total": 12.5}' --json
            """
    )

    @OptionGroup var server: ServerOptions
    @Argument(help: "The topic.") var topic: String
    @Option(help: "The key of every record (same key, same partition).") var key: String?
    @Option(help: "The type header of every record (the SSE event name).") var type: String?
    @Option(name: .customLong("header"), help: "A header name=value (repeatable).") var headers: [String] = []
    @Option(help: "Append only the partition given.") var partition: Int?
    @Option(help: "Read the lines from this file instead of standard input.") var file: String?
    @Option(help: "Append this one value instead of reading lines.") var value: String?
    @Flag(help: "Each value is JSON text (validated by the server) rather than raw bytes.") var json = false
    @Flag(help: "Print partition@offset of every record appended.") var printOffsets = false
    @Option(help: "Records per request (1...10000).") var batchSize = 500

    func validate() throws {
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1...10000.") }
        if let partition, partition < 0 { throw ValidationError("--partition must not be negative.") }
        for header in headers where !header.contains("=") { throw ValidationError("--header takes name=value, not '\(header)'.") }
        if value != nil && file != nil { throw ValidationError("Give --value or --file, not both.") }
    }

    func run() async throws {
        let client = server.client
        var pairs: [(name: String, value: String)] = headers.map { header in
            let parts = header.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), String(parts[1]))
        }
        if let type { pairs.append(("type", type)) }
        let recordHeaders = pairs
        func record(_ line: [UInt8]) -> OutgoingRecord {
            OutgoingRecord(key: key, value: json ? .json(String(decoding: line, as: UTF8.self)) : .bytes(line),
                           headers: recordHeaders, partition: partition)
        }
        var appended = 0
        try await reportingErrors {
            var batch: [OutgoingRecord] = []
            func flush() async throws {
                guard !batch.isEmpty else { return }
                let positions = try await client.produce(batch, to: topic)
                appended += positions.count
                if printOffsets { for p in positions { printLine(p.description) } }
                batch.removeAll(keepingCapacity: true)
            }
            if let value {
                batch.append(record(Array(value.utf8)))
            } else {
                let input = file.map { FileHandle(forReadingAtPath: $0) } ?? FileHandle.standardInput
                guard let input else { throw ValidationError("Cannot open \(file ?? "standard input").") }
                var lines = LineReader(input)
                var number = 0
                while let line = lines.next() {
                    number += 1
                    let next = record(line)
                    if let value = next.value, !value.isWellFormed {
                        // Said here, by its line: the batch it would be in is not sent.
                        throw EventLogClientError(code: .invalidRecord,
                                                  message: "Line \(number) is not one JSON value (--json): \(String(decoding: line.prefix(60), as: UTF8.self)).",
                                                  status: 400)
                    }
                    batch.append(next)
                    if batch.count == batchSize { try await flush() }
                }
            }
            try await flush()
        }
        FileHandle.standardError.write(Data("appended \(appended) records to \(topic)\n".utf8))
    }
}

/// Lines of a file, without their `\n` (or `\r\n`), read in large blocks.
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(_ handle: FileHandle) { self.handle = handle }

    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<newline])
                if line.last == 0x0D { line.removeLast() }
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            let block = handle.readData(ofLength: 1 << 16)
            if block.isEmpty { atEnd = true } else { buffer.append(contentsOf: block) }
        }
    }
}
