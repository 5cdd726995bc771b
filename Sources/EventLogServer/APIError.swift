public import HTTPTypes

/// The one error type of the HTTP layer: a status, a snake_case code and one sentence.
///
/// Every error answer has the body `{"error": "<code>", "message": "<sentence>"}`, plus any
/// ``extraFields`` (a `416` carries `start_offset` and `end_offset`). Storage errors are
/// mapped to these in one place, ``APIError/init(_:)-(LogError)``.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// The machine-readable part of an error: the `error` field and its HTTP status.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The snake_case name sent as `"error"`.
        public var name: String
        /// The HTTP status the code is answered with.
        public var status: HTTPResponse.Status

        /// Makes a code.
        public init(_ name: String, _ status: HTTPResponse.Status) {
            self.name = name
            self.status = status
        }

        public var description: String { name }

        public static let invalidJSON = Code("invalid_json", .badRequest)
        public static let invalidRecord = Code("invalid_record", .badRequest)
        public static let invalidConfig = Code("invalid_config", .badRequest)
        public static let invalidTopicName = Code("invalid_topic_name", .badRequest)
        public static let invalidGroupName = Code("invalid_group_name", .badRequest)
        public static let invalidOffset = Code("invalid_offset", .badRequest)
        public static let invalidLimit = Code("invalid_limit", .badRequest)
        public static let invalidWait = Code("invalid_wait", .badRequest)
        public static let invalidPartition = Code("invalid_partition", .badRequest)
        public static let invalidReset = Code("invalid_reset", .badRequest)
        public static let invalidLastEventID = Code("invalid_last_event_id", .badRequest)
        public static let invalidIdempotencyKey = Code("invalid_idempotency_key", .badRequest)
        public static let invalidArgument = Code("invalid_argument", .badRequest)
        /// A request HTTP/1.1 cannot parse: a malformed request line, header, `Content-Length`
        /// or chunked body framing.
        public static let invalidRequest = Code("invalid_request", .badRequest)
        /// A body that ended (the client closed or reset its side) before its `Content-Length`
        /// or last chunk: nothing was done with it.
        public static let incompleteBody = Code("incomplete_body", .badRequest)
        /// A request head that did not arrive within the header timeout, or a body that stalled
        /// for the idle timeout.
        public static let requestTimeout = Code("request_timeout", .requestTimeout)
        /// A request head (request line and headers) larger than the server accepts.
        public static let headersTooLarge = Code("headers_too_large", .requestHeaderFieldsTooLarge)
        public static let unsupportedCodec = Code("unsupported_codec", .badRequest)
        public static let unauthorized = Code("unauthorized", .unauthorized)
        public static let forbidden = Code("forbidden", .forbidden)
        public static let notFound = Code("not_found", .notFound)
        public static let topicNotFound = Code("topic_not_found", .notFound)
        public static let partitionNotFound = Code("partition_not_found", .notFound)
        public static let groupNotFound = Code("group_not_found", .notFound)
        public static let unknownMember = Code("unknown_member", .notFound)
        public static let methodNotAllowed = Code("method_not_allowed", .methodNotAllowed)
        public static let topicExists = Code("topic_exists", .conflict)
        public static let staleGeneration = Code("stale_generation", .conflict)
        public static let rebalancing = Code("rebalancing", .conflict)
        /// A group that still has members cannot be deleted.
        public static let groupNotEmpty = Code("group_not_empty", .conflict)
        public static let notCompacted = Code("not_compacted", .conflict)
        /// The group's members joined through the Kafka protocol (or, for a Kafka client, through HTTP).
        public static let inconsistentGroupProtocol = Code("inconsistent_group_protocol", .conflict)
        /// A bound on consumer groups was reached (groups with members, members of one group).
        public static let groupLimitReached = Code("group_limit_reached", .conflict)
        /// A topic was not created, or did not grow: the server would hold more partitions
        /// than `--max-partitions` allows.
        public static let partitionLimitReached = Code("partition_limit_reached", .conflict)
        /// A change of a setting fixed at a topic's creation: the partition count (it never
        /// shrinks; growing it is not supported yet), the compression, the segment size.
        public static let fixedSetting = Code("fixed_setting", .conflict)
        public static let producerFenced = Code("producer_fenced", .conflict)
        public static let idempotencyKeyReused = Code("idempotency_key_reused", .conflict)
        public static let payloadTooLarge = Code("payload_too_large", .contentTooLarge)
        public static let recordTooLarge = Code("record_too_large", .contentTooLarge)
        public static let offsetOutOfRange = Code("offset_out_of_range", .rangeNotSatisfiable)
        public static let rateLimited = Code("rate_limited", .tooManyRequests)
        public static let internalError = Code("internal_error", .internalServerError)
        public static let corruptData = Code("corrupt_data", .internalServerError)
        public static let ioError = Code("io_error", .internalServerError)
        public static let unavailable = Code("unavailable", .serviceUnavailable)
        /// The partition refuses writes after a failed sync of its files, until `logd` restarts.
        public static let readOnly = Code("read_only", .serviceUnavailable)
        /// `/healthz` while appends fail for a disk reason (full, or failing I/O).
        public static let notAcceptingWrites = Code("not_accepting_writes", .serviceUnavailable)
        public static let insufficientStorage = Code("insufficient_storage", .init(code: 507, reasonPhrase: "Insufficient Storage"))
    }

    /// What went wrong.
    public var code: Code
    /// One sentence for a human.
    public var message: String
    /// Extra members of the error body, such as `start_offset` (integers only).
    public var extraFields: [(name: String, value: Int64)]
    /// Extra response headers, such as `Retry-After`.
    public var headers: HTTPFields

    /// Makes an error.
    public init(_ code: Code, _ message: String, extraFields: [(name: String, value: Int64)] = [], headers: HTTPFields = [:]) {
        self.code = code
        self.message = message
        self.extraFields = extraFields
        self.headers = headers
    }

    public var description: String { "\(code.name): \(message)" }

    /// The JSON body of the answer.
    var body: [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("error")
        json.string(code.name)
        json.key("message")
        json.string(message)
        for field in extraFields {
            json.key(field.name)
            json.int(field.value)
        }
        json.endObject()
        return json.bytes
    }
}
