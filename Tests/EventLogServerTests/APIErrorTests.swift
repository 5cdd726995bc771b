import EventLog
@testable import EventLogServer
import Testing

/// The one table of storage errors to HTTP answers: no answer names a server file.
@Suite struct APIErrorTests {
    static let path = "/srv/logd/data/topics/orders/0/00000000000000000015.log"

    @Test(arguments: [
        LogError(.corruptData, "\(path) at byte 867: the CRC32C does not match.", range: OffsetRange(first: 21, end: 22)),
        LogError(.corruptData, "\(path): cannot read the setting \"x\"."),
        LogError(.ioError, "pread on \(path) failed: Input/output error."),
        LogError(.diskFull, "the disk is full: pwrite on \(path) failed (No space left on device)."),
        LogError(.locked, "the data directory /srv/logd/data is locked by another process (/srv/logd/data/.lock)."),
        LogError(.closed, "the store at /srv/logd/data is closed."),
    ])
    func storageErrorsNameNoServerPath(_ error: LogError) {
        let answer = APIError(error)
        #expect(!answer.message.contains("/srv/"), "\(answer.message)")
        #expect(!String(decoding: answer.body, as: UTF8.self).contains("/srv/"))
        #expect(answer.message.hasSuffix("."))
    }

    @Test func damagedDataNamesTheOffsets() {
        let answer = APIError(LogError(.corruptData, "\(Self.path) at byte 867.", range: OffsetRange(first: 21, end: 24)))
        #expect(answer.code == .corruptData)
        #expect(answer.message == "Stored data is damaged: offsets 21 to 23 cannot be read.")
    }
}
