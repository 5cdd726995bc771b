/// The one error type of the `KafkaProtocol` module: a code to match on and one clear sentence.
///
/// Every malformed, truncated or hostile input is reported with one of these, never with a
/// trap or an allocation sized by the input:
///
/// ```swift
/// do { let request = try KafkaRequestFrame.decode(frame, advertised: table) }
/// catch KafkaProtocolError.Code.unsupportedVersion { … close the connection … }
/// ```
public struct KafkaProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a value to match on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: UInt8 {
            case truncated, invalidLength, invalidCount, invalidValue, trailingBytes
            case invalidFrameSize, unsupportedVersion
            case corruptBatch, unsupportedCompression, invalidRecord, batchTooLarge
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// The bytes end before a field does.
        public static var truncated: Self { .init(.truncated) }
        /// A string or bytes length is below -1, is -1 (null) where null is not allowed, or runs
        /// past the end of the frame.
        public static var invalidLength: Self { .init(.invalidLength) }
        /// An array count is below -1, is -1 (null) where null is not allowed, or is larger
        /// than the bytes left could hold.
        public static var invalidCount: Self { .init(.invalidCount) }
        /// A value is not one its type allows (a boolean other than 0 or 1, a string that is
        /// not UTF-8).
        public static var invalidValue: Self { .init(.invalidValue) }
        /// Bytes are left in the frame after the body.
        public static var trailingBytes: Self { .init(.trailingBytes) }
        /// A frame's size prefix is negative, too small for a header, or above the maximum.
        public static var invalidFrameSize: Self { .init(.invalidFrameSize) }
        /// The API, or this version of it, is not covered by the codecs or not advertised.
        public static var unsupportedVersion: Self { .init(.unsupportedVersion) }
        /// A produced record batch fails a framing or checksum check (Kafka's CORRUPT_MESSAGE).
        public static var corruptBatch: Self { .init(.corruptBatch) }
        /// A produced record batch uses gzip or snappy (Kafka's UNSUPPORTED_COMPRESSION_TYPE).
        public static var unsupportedCompression: Self { .init(.unsupportedCompression) }
        /// A produced record batch is well formed but not acceptable from a client: a control
        /// or transactional batch (Kafka's INVALID_RECORD).
        public static var invalidRecord: Self { .init(.invalidRecord) }
        /// A produced record batch is larger than the maximum (Kafka's MESSAGE_TOO_LARGE).
        public static var batchTooLarge: Self { .init(.batchTooLarge) }

        public var description: String { "\(storage)" }

        /// Lets `catch KafkaProtocolError.Code.truncated { … }` read naturally.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? KafkaProtocolError)?.code == code
        }
    }

    /// What went wrong.
    public var code: Code
    /// One sentence saying what was found and what was expected.
    public var message: String

    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The Kafka error code a broker answers with for this error where the protocol has one
    /// (a produced batch that is refused); `.corruptMessage` for a malformed request.
    public var kafkaErrorCode: KafkaErrorCode {
        switch code {
        case .unsupportedCompression: .unsupportedCompressionType
        case .invalidRecord: .invalidRecord
        case .batchTooLarge: .messageTooLarge
        case .unsupportedVersion: .unsupportedVersion
        default: .corruptMessage
        }
    }

    /// An API or version the codecs do not cover, or the broker does not advertise.
    static func unsupportedVersion(apiKey: KafkaAPIKey, version: Int16, supported: ClosedRange<Int16>?) -> Self {
        let api = apiKey.name.map { "\($0) (key \(apiKey.rawValue))" } ?? "API key \(apiKey.rawValue)"
        if let supported {
            return .init(.unsupportedVersion, "\(api) v\(version) is not supported; versions \(supported.lowerBound)–\(supported.upperBound) are.")
        }
        return .init(.unsupportedVersion, "\(api) is not supported.")
    }

    /// The same error with `context` (the message and version being decoded) in front.
    func prefixed(_ context: String) -> Self {
        .init(code, context + ": " + message)
    }
}
