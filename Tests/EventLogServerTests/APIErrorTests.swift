import EventLog
@testable import EventLogServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
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

/// `APIError` is Hummingbird's `HTTPResponseError`: a route that throws one answers with its
/// status, headers and JSON body even where no `JSONErrorMiddleware` is installed (a router
/// that mounts the routes its own way).
@Suite struct APIErrorResponseTests {
    @Test func aThrownAPIErrorIsItsOwnAnswer() async throws {
        let router = Router()
        router.get("/busy") { _, _ -> Response in
            throw APIError(.rateLimited, "Too many requests; retry in 2 seconds.", headers: [.retryAfter: "2"])
        }
        router.get("/range") { _, _ -> Response in
            throw APIError(.offsetOutOfRange, "Offset 9 is outside the partition's range 0 to 3.",
                           extraFields: [("start_offset", 0), ("end_offset", 3)])
        }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/busy", method: .get) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "2")
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == #"{"error":"rate_limited","message":"Too many requests; retry in 2 seconds."}"#)
            }
            try await client.execute(uri: "/range", method: .get) { response in
                #expect(response.status == .rangeNotSatisfiable)
                #expect(String(buffer: response.body).contains(#""start_offset":0,"end_offset":3"#))
            }
        }
    }
}
