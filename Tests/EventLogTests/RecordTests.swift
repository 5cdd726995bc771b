import Testing
@testable import EventLog

/// The record initialisers: strings and bytes both easy, `nil` unambiguous, headers in order.
@Suite struct RecordTests {
    @Test func headersKeepTheirOrder() {
        let record = Record(key: "k", value: Array("x".utf8), headers: ["trace": "t1", "content-type": "json", "b": "2"])
        #expect(record.headers.map(\.name) == ["trace", "content-type", "b"])
        #expect(record.headers.map(\.value) == ["t1", "json", "2"])
    }

    @Test func repeatedHeaderNamesAreKeptAndTheFirstIsLookedUp() {
        var headers: RecordHeaders = ["via": "a", "type": "t", "via": "b"]
        headers.append(name: "via", value: [0xFF])
        #expect(headers.count == 4)
        #expect(headers.map(\.name) == ["via", "type", "via", "via"])
        #expect(headers["via"] == "a")
        #expect(headers["type"] == "t")
        #expect(headers["missing"] == nil)
        let list = RecordHeaders([RecordHeader(name: "z", value: "1"), RecordHeader(name: "a", value: [2])])
        #expect(list.map(\.name) == ["z", "a"])
    }

    @Test func nilKeysAndValuesAreUnambiguous() {
        let bytes: [UInt8] = [0xFF, 0x00, 0x7F]
        let noKey = Record(key: nil, value: bytes)
        #expect(noKey.key == nil && noKey.value == RecordBytes(bytes))
        let keyless = Record(value: nil)
        #expect(keyless.key == nil && keyless.value == nil)
        let tombstone = Record(key: "k", value: nil)
        #expect(tombstone.key == "k" && tombstone.value == nil)
        let customer = "customer-9"
        let deleted = Record(key: customer, value: nil, timestamp: 5)
        #expect(deleted.key == "customer-9" && deleted.value == nil && deleted.timestamp == 5)
        let absent: String? = nil
        let payload: [UInt8]? = [1, 2]
        let maybe = Record(key: absent, value: payload)
        #expect(maybe.key == nil && maybe.value == [1, 2])
    }

    @Test func stringsAndBytesAreBothOneCall() {
        let text = Record(value: "x")
        #expect(text.value == RecordBytes(Array("x".utf8)))
        let bytes: [UInt8] = [0x00, 0xFE]
        let keyed = Record(key: "k", value: bytes)
        #expect(keyed.key == RecordBytes(Array("k".utf8)) && keyed.value == [0x00, 0xFE])
        let id = "order-17", json = "{\"total\":1}"
        let strings = Record(key: id, value: json, headers: ["type": "order.placed"])
        #expect(strings.key == "order-17" && strings.value == "{\"total\":1}" && strings.headers["type"] == "order.placed")
        let byteKey = Record(key: bytes, value: id[...])
        #expect(byteKey.key == [0x00, 0xFE] && byteKey.value == "order-17")
        let interpolated = Record(key: "k-\(3)", value: "v-\(4)")
        #expect(interpolated.key == "k-3" && interpolated.value == "v-4")
    }

    @Test func bytesCompareByContentWhateverHoldsThem() {
        let array: [UInt8] = [9, 1, 2, 3, 9]
        let view = RecordBytes(array, start: 1, count: 3)
        #expect(view == [1, 2, 3])
        #expect(Array(view) == [1, 2, 3])
        #expect(view.hashValue == RecordBytes([1, 2, 3]).hashValue)
        let owner = OwnedBytes([7, 1, 2, 3])
        let lent = owner.memory.withUnsafeBytes { RecordBytes(unsafeBytes: UnsafeRawBufferPointer(rebasing: $0[1...]), owner: owner) }
        #expect(lent == view && lent.count == 3 && lent[0] == 1)
        #expect(lent.copied() == view)
        #expect(RecordBytes([0xFF, 0x0A]).description == "0xff0a")
        #expect(RecordBytes("héllo").description == "héllo")
        #expect(RecordBytes() == [] && RecordBytes().isEmpty)
    }

    @Test func aStoredRecordGivesBackItsRecord() {
        let record = Record(key: "k", value: "v", headers: ["a": "1", "b": [0xFF]])
        let stored = StoredRecord(record, offset: 42, timestamp: 7)
        #expect(stored.offset == 42 && stored.timestamp == 7)
        #expect(stored.key == "k" && stored.value == "v" && stored.headers == record.headers)
        var expected = record
        expected.timestamp = 7
        #expect(stored.record == expected)
    }
}
