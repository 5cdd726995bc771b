/// An error of ``EventLogClient``: the server's answer (its contract `code`, its sentence, the
/// HTTP status), or a transport failure.
public struct EventLogClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An error code: one of the contract's (Docs/HTTP-API.md, "Error codes"), or this client's
    /// own ``transport``, ``invalidResponse`` and ``tokenExpired``.
    ///
    /// Compare with a constant (`error.code == .topicNotFound`), or match in a `catch`:
    ///
    /// ```swift
    /// do { try await client.deleteTopic("orders") }
    /// catch EventLogClientError.Code.topicNotFound { /* already gone */ }
    /// ```
    ///
    /// A code a newer server sends that has no constant here is kept as its text
    /// (``rawValue``), and a string literal makes one (`"fixed_setting"`).
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The code's text, as the server sends it.
        public var rawValue: String
        /// The code of that text.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code of that text.
        public init(stringLiteral value: String) { rawValue = value }
        /// The code's text.
        public var description: String { rawValue }

        /// No answer came (connection refused or reset, timeout).
        public static let transport: Code = "transport"
        /// The answer was not understood.
        public static let invalidResponse: Code = "invalid_response"
        /// The token ran out during a stream (the stream's `token_expired` event).
        public static let tokenExpired: Code = "token_expired"
        // The contract's codes (Docs/HTTP-API.md, "Error codes").
        /// The contract's `invalid_json`.
        public static let invalidJSON: Code = "invalid_json"
        /// The contract's `invalid_record`.
        public static let invalidRecord: Code = "invalid_record"
        /// The contract's `invalid_config`.
        public static let invalidConfig: Code = "invalid_config"
        /// The contract's `invalid_topic_name`.
        public static let invalidTopicName: Code = "invalid_topic_name"
        /// The contract's `invalid_group_name`.
        public static let invalidGroupName: Code = "invalid_group_name"
        /// The contract's `invalid_offset`.
        public static let invalidOffset: Code = "invalid_offset"
        /// The contract's `invalid_limit`.
        public static let invalidLimit: Code = "invalid_limit"
        /// The contract's `invalid_wait`.
        public static let invalidWait: Code = "invalid_wait"
        /// The contract's `invalid_partition`.
        public static let invalidPartition: Code = "invalid_partition"
        /// The contract's `invalid_reset`.
        public static let invalidReset: Code = "invalid_reset"
        /// The contract's `invalid_last_event_id`.
        public static let invalidLastEventID: Code = "invalid_last_event_id"
        /// The contract's `invalid_idempotency_key`.
        public static let invalidIdempotencyKey: Code = "invalid_idempotency_key"
        /// The contract's `invalid_argument`.
        public static let invalidArgument: Code = "invalid_argument"
        /// The contract's `invalid_request`.
        public static let invalidRequest: Code = "invalid_request"
        /// The contract's `incomplete_body`.
        public static let incompleteBody: Code = "incomplete_body"
        /// The contract's `request_timeout`.
        public static let requestTimeout: Code = "request_timeout"
        /// The contract's `headers_too_large`.
        public static let headersTooLarge: Code = "headers_too_large"
        /// The contract's `unsupported_codec`.
        public static let unsupportedCodec: Code = "unsupported_codec"
        /// The contract's `unauthorized`.
        public static let unauthorized: Code = "unauthorized"
        /// The contract's `forbidden`.
        public static let forbidden: Code = "forbidden"
        /// The contract's `not_found`.
        public static let notFound: Code = "not_found"
        /// The contract's `topic_not_found`.
        public static let topicNotFound: Code = "topic_not_found"
        /// The contract's `partition_not_found`.
        public static let partitionNotFound: Code = "partition_not_found"
        /// The contract's `group_not_found`.
        public static let groupNotFound: Code = "group_not_found"
        /// The contract's `unknown_member`.
        public static let unknownMember: Code = "unknown_member"
        /// The contract's `method_not_allowed`.
        public static let methodNotAllowed: Code = "method_not_allowed"
        /// The contract's `topic_exists`.
        public static let topicExists: Code = "topic_exists"
        /// The contract's `stale_generation`.
        public static let staleGeneration: Code = "stale_generation"
        /// The contract's `rebalancing`.
        public static let rebalancing: Code = "rebalancing"
        /// The contract's `group_not_empty`.
        public static let groupNotEmpty: Code = "group_not_empty"
        /// The contract's `not_compacted`.
        public static let notCompacted: Code = "not_compacted"
        /// The contract's `inconsistent_group_protocol`.
        public static let inconsistentGroupProtocol: Code = "inconsistent_group_protocol"
        /// The contract's `group_limit_reached`.
        public static let groupLimitReached: Code = "group_limit_reached"
        /// The contract's `fixed_setting`.
        public static let fixedSetting: Code = "fixed_setting"
        /// The contract's `producer_fenced`.
        public static let producerFenced: Code = "producer_fenced"
        /// The contract's `idempotency_key_reused`.
        public static let idempotencyKeyReused: Code = "idempotency_key_reused"
        /// The contract's `payload_too_large`.
        public static let payloadTooLarge: Code = "payload_too_large"
        /// The contract's `record_too_large`.
        public static let recordTooLarge: Code = "record_too_large"
        /// The contract's `offset_out_of_range`.
        public static let offsetOutOfRange: Code = "offset_out_of_range"
        /// The contract's `rate_limited`.
        public static let rateLimited: Code = "rate_limited"
        /// The contract's `internal_error`.
        public static let internalError: Code = "internal_error"
        /// The contract's `corrupt_data`.
        public static let corruptData: Code = "corrupt_data"
        /// The contract's `io_error`.
        public static let ioError: Code = "io_error"
        /// The contract's `unavailable`.
        public static let unavailable: Code = "unavailable"
        /// The contract's `read_only`.
        public static let readOnly: Code = "read_only"
        /// The contract's `not_accepting_writes`.
        public static let notAcceptingWrites: Code = "not_accepting_writes"
        /// The contract's `insufficient_storage`.
        public static let insufficientStorage: Code = "insufficient_storage"

        /// Whether `error` is an ``EventLogClientError`` with this code: `catch EventLogClientError.Code.topicNotFound`.
        public static func ~= (code: Code, error: any Error) -> Bool { (error as? EventLogClientError)?.code == code }
    }

    /// The error's code: the contract's (``Code/topicNotFound``, ``Code/invalidOffset``, …), or
    /// ``Code/transport`` when no answer came, ``Code/invalidResponse`` when the answer was not
    /// understood.
    public var code: Code
    /// One sentence saying what went wrong.
    public var message: String
    /// The HTTP status, `0` without an answer.
    public var status: Int
    /// Seconds the server asked to wait before retrying (`Retry-After`), if any.
    public var retryAfterSeconds: Int?

    /// An error with the code, sentence and HTTP status given (`0`: no answer).
    public init(code: Code, message: String, status: Int, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { status == 0 ? "\(code): \(message)" : "\(status) \(code): \(message)" }

    /// Whether the same request may succeed later: no answer, `429`, `503`, `507` and other 5xx.
    public var isRetryable: Bool { status == 0 || status == 429 || status >= 500 }

    static func transport(_ error: any Error) -> EventLogClientError {
        EventLogClientError(code: .transport, message: "No answer from logd: \(error).", status: 0)
    }

    static func invalidResponse(_ what: String, status: Int) -> EventLogClientError {
        EventLogClientError(code: .invalidResponse, message: "logd answered something this client does not understand: \(what).",
                            status: status)
    }
}
