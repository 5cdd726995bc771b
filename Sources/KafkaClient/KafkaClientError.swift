public import KafkaProtocol

/// The one error type of the `KafkaClient` module: a code to match on and one clear sentence
/// (the broker, what was asked, what came back).
///
/// ```swift
/// do { try cluster.refreshMetadata(topics: ["orders"]) }
/// catch KafkaClientError.Code.connectionFailed { … back off and retry … }
/// ```
public struct KafkaClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value to match on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: UInt8 {
            case connectionFailed, timedOut, protocolViolation, brokerError, unsupportedBroker, authenticationFailed
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// The broker could not be reached, or the connection broke (retriable).
        public static var connectionFailed: Self { .init(.connectionFailed) }
        /// No answer came within the request timeout (retriable; the connection is closed).
        public static var timedOut: Self { .init(.timedOut) }
        /// The broker's answer could not be decoded, or answered another request.
        public static var protocolViolation: Self { .init(.protocolViolation) }
        /// The broker answered with a Kafka error code (``KafkaClientError/kafkaErrorCode``).
        public static var brokerError: Self { .init(.brokerError) }
        /// The broker supports none of the versions of an API this client speaks.
        public static var unsupportedBroker: Self { .init(.unsupportedBroker) }
        /// SASL/PLAIN was refused.
        public static var authenticationFailed: Self { .init(.authenticationFailed) }

        public var description: String { "\(storage)" }

        /// Lets `catch KafkaClientError.Code.timedOut { … }` read naturally.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? KafkaClientError)?.code == code
        }
    }

    /// What went wrong.
    public var code: Code
    /// One sentence: which broker, what was asked, what was found.
    public var message: String
    /// The broker's error code, for ``Code/brokerError``.
    public var kafkaErrorCode: KafkaErrorCode?

    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String, kafkaErrorCode: KafkaErrorCode? = nil) {
        self.code = code
        self.message = message
        self.kafkaErrorCode = kafkaErrorCode
    }

    public var description: String { message }

    /// Whether trying again later (after a metadata refresh and a new connection) may succeed:
    /// a broken or slow connection, or a broker error Kafka marks retriable.
    public var isRetriable: Bool {
        switch code {
        case .connectionFailed, .timedOut: return true
        case .brokerError: return kafkaErrorCode.map(Self.isRetriable) ?? false
        default: return false
        }
    }

    /// Kafka's retriable error codes that a client meets while a broker restarts or leadership
    /// moves: unknown topic or partition (3, while a topic is being created), leader not
    /// available (5), not leader (6), request timed out (7), network exception (13),
    /// coordinator loading (14), coordinator not available (15), not coordinator (16),
    /// not enough replicas (19, 20), storage error (56), and the fetch session and epoch codes.
    public static func isRetriable(_ code: KafkaErrorCode) -> Bool {
        [-1, 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 56, 70, 74, 75].contains(code.rawValue)
    }
}
