public import EventLog
import HTTPTypes

extension APIError {
    /// Maps a storage error to its HTTP answer: the one table of `LogError` codes to statuses.
    ///
    /// The engine's sentence is kept, with every file path shortened to its last component: an
    /// answer never shows where the server keeps its files.
    public init(_ error: LogError) {
        let code: Code
        var headers: HTTPFields = [:]
        switch error.code {
        case .invalidArgument: code = .invalidArgument
        case .invalidTopicName: code = .invalidTopicName
        case .invalidGroupName: code = .invalidGroupName
        case .topicNotFound: code = .topicNotFound
        case .topicExists, .configurationMismatch: code = .topicExists
        case .partitionNotFound: code = .partitionNotFound
        case .offsetOutOfRange: code = .offsetOutOfRange
        case .corruptData: code = .corruptData
        case .diskFull: code = .insufficientStorage
        case .ioError: code = .ioError
        case .locked, .closed:
            code = .unavailable
            headers[.retryAfter] = "1"
        case .unsupportedCodec: code = .unsupportedCodec
        case .recordTooLarge: code = .recordTooLarge
        case .internalTopic: code = .forbidden
        case .groupNotFound: code = .groupNotFound
        case .unknownMember: code = .unknownMember
        case .staleGeneration: code = .staleGeneration
        case .rebalanceInProgress: code = .rebalancing
        case .notCompacted: code = .notCompacted
        case .staleProducerEpoch, .outOfOrderSequence: code = .producerFenced
        default: code = .internalError
        }
        self.init(code, Self.redactingPaths(error.message), headers: headers)
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
