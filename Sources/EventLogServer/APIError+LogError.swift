public import EventLog
import HTTPTypes

extension APIError {
    /// Maps a storage error to its HTTP answer: the one table of `LogError` codes to statuses.
    public init(_ error: LogError) {
        let code: Code
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
        self.init(code, error.message, headers: headers)
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
