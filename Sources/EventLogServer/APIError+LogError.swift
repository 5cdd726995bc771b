public import EventLog
import HTTPTypes

extension APIError {
    /// Maps a storage error to its HTTP answer: the one table of `LogError` codes to statuses.
    ///
    /// Errors of the storage itself (damaged data, failed system calls, a full disk, a closed
    /// or locked store) name files of the server in their message: those get a sentence of
    /// their own here, and the full error goes to the server's log (``JSONErrorMiddleware``
    /// logs every 5xx). Any other sentence of the engine is kept, with each file path cut to
    /// its last component: no answer shows where the server keeps its files.
    public init(_ error: LogError) {
        let code: Code
        var message = error.message
        var headers: HTTPFields = [:]
        switch error.code {
        case .invalidArgument: code = .invalidArgument
        case .invalidTopicName: code = .invalidTopicName
        case .invalidGroupName: code = .invalidGroupName
        // Auto-creation stopped at its limit: the topic does not exist, as with auto-creation off.
        case .topicNotFound, .topicLimitReached: code = .topicNotFound
        case .topicExists, .configurationMismatch: code = .topicExists
        case .partitionNotFound: code = .partitionNotFound
        case .offsetOutOfRange: code = .offsetOutOfRange
        case .corruptData:
            code = .corruptData
            if let range = error.range {
                message = "Stored data is damaged: offsets \(range.first) to \(range.end.rawValue - 1) cannot be read."
            } else {
                message = "Stored data is damaged; the server's log names what and where."
            }
        case .diskFull:
            code = .insufficientStorage
            message = "The server's disk is full; nothing was written."
        case .readOnly:
            // The engine's sentence names the topic and partition and the failed call, no path.
            code = .readOnly
        case .ioError:
            code = .ioError
            message = "The server could not read or write its storage; its log has the details."
        case .locked, .closed:
            code = .unavailable
            message = "The log store is not available (closed or stopping); retry shortly."
            headers[.retryAfter] = "1"
        case .unsupportedCodec: code = .unsupportedCodec
        case .recordTooLarge: code = .recordTooLarge
        case .internalTopic: code = .forbidden
        case .groupNotFound: code = .groupNotFound
        case .unknownMember: code = .unknownMember
        case .staleGeneration: code = .staleGeneration
        case .rebalanceInProgress: code = .rebalancing
        case .groupNotEmpty: code = .groupNotEmpty
        case .inconsistentGroupProtocol: code = .inconsistentGroupProtocol
        case .groupLimitReached: code = .groupLimitReached
        case .partitionLimitReached: code = .partitionLimitReached
        case .notCompacted: code = .notCompacted
        case .fixedSetting: code = .fixedSetting
        case .staleProducerEpoch, .outOfOrderSequence: code = .producerFenced
        default:
            code = .internalError
            message = "The server failed to answer the request."
        }
        self.init(code, Self.redactingPaths(message), headers: headers)
    }

    /// `text` with each absolute path (`/a/b/00000000000000000069.log`) cut to its last
    /// component (`00000000000000000069.log`).
    static func redactingPaths(_ text: String) -> String {
        guard text.contains("/") else { return text }
        var out = ""
        var path: String?
        var previous: Character = " "
        for character in text {
            if var current = path {
                if character.isWhitespace || "\"'),;".contains(character) {
                    out += current.split(separator: "/").last.map(String.init) ?? ""
                    out.append(character)
                    path = nil
                } else {
                    current.append(character)
                    path = current
                }
            } else if character == "/", previous.isWhitespace || "\"'(=:".contains(previous) {
                path = "/"
            } else {
                out.append(character)
            }
            previous = character
        }
        if let path { out += path.split(separator: "/").last.map(String.init) ?? "" }
        return out
    }

    /// Any error as an HTTP answer: ``APIError`` as is, ``LogError`` through the table, the rest `500`.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let apiError as APIError: apiError
        case let logError as LogError: APIError(logError)
        default: APIError(.internalError, "The server failed to answer the request.")
        }
    }
}
