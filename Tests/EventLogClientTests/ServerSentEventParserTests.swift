@testable import EventLogClient
import Testing

@Suite struct ServerSentEventParserTests {
    @Test func eventsSplitAnywhereParseTheSame() throws {
        let text = "retry: 2000\n\nid: 3,-1\n\n: keepalive\n\nid: 4,-1\r\nevent: order.created\r\ndata: {\"a\":1}\r\ndata: line 2\r\n\r\nevent: gap\ndata: {\"partition\":1}\n\n"
        let bytes = Array(text.utf8)
        let expected: [ServerSentEvent] = [
            ServerSentEvent(id: "3,-1", type: nil, data: nil),
            ServerSentEvent(id: "4,-1", type: "order.created", data: "{\"a\":1}\nline 2"),
            ServerSentEvent(id: nil, type: "gap", data: "{\"partition\":1}"),
        ]
        for split in 0...bytes.count {
            var parser = ServerSentEventParser()
            let events = try parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(events == expected, "split at \(split)")
            #expect(parser.retryMilliseconds == 2000)
        }
    }

    @Test func theRecordsPartitionIsTheOneWhoseNumberMoved() {
        #expect(EventStream.Iterator.advanced(from: "3,-1,7", to: "3,0,7")! == (1, 0))
        #expect(EventStream.Iterator.advanced(from: nil, to: "12")! == (0, 12))
        #expect(EventStream.Iterator.advanced(from: "12", to: "13")! == (0, 13))
        #expect(EventStream.Iterator.advanced(from: "1,2", to: "1,2") == nil)
        #expect(EventStream.Iterator.advanced(from: "1,2", to: "1,x") == nil)
    }

    /// A topic that grew: the cursor gains numbers, and the record is on the partition that
    /// moved past -1 (its numbers before the growth were -1: nothing delivered there).
    @Test func aCursorThatGainsPartitionsNamesTheNewOnesRecord() {
        #expect(EventStream.Iterator.advanced(from: "0,-1", to: "0,-1,0")! == (2, 0))
        #expect(EventStream.Iterator.advanced(from: "4", to: "4,-1,3")! == (2, 3))
        #expect(EventStream.Iterator.advanced(from: "0,-1,0", to: "0,-1") == nil, "a cursor never loses partitions")
    }

    @Test func rawJSONKeepsAValuesBytes() throws {
        let json = try #require(RawJSON.parse(Array(#"{"records": [{"value": {"total": 12.50, "k": [1, "a\"b"]}, "key": "\u00e9\ud83d\ude00"}]}"#.utf8)))
        let record = try #require(json[member: "records"]?.array?.first)
        #expect(String(decoding: record[member: "value"]!.raw, as: UTF8.self) == #"{"total": 12.50, "k": [1, "a\"b"]}"#)
        #expect(record[member: "key"]?.string == "é😀")
        #expect(RawJSON.parse(Array("{\"a\": }".utf8)) == nil)
        #expect(RawJSON.parse(Array(String(repeating: "[", count: 1000).utf8)) == nil)
    }

    @Test func produceBodiesAreJSON() throws {
        let body = EventLogClient.produceBody([
            OutgoingRecord(key: "k\"1", text: "line\nnext", type: "t"),
            OutgoingRecord(value: .bytes([0xFF, 0x00])),
            OutgoingRecord(value: nil, partition: 2, timestamp: 5),
        ])
        let json = try #require(RawJSON.parse(Array(body.utf8)))
        let records = try #require(json[member: "records"]?.array)
        #expect(records.count == 3)
        #expect(records[0][member: "key"]?.string == "k\"1")
        #expect(records[0][member: "value"]?.string == "line\nnext")
        #expect(records[1][member: "value_b64"]?.string == "/wA=")
        #expect(records[2][member: "value"]?.isNull == true)
        #expect(records[2][member: "partition"]?.int64 == 2)
    }
}
