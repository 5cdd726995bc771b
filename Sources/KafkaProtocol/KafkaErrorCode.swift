/// A Kafka protocol error code, as carried in the `ErrorCode` fields of responses.
///
/// The named codes are the ones logd answers with; any other int16 is representable. Values are
/// Kafka's (`org.apache.kafka.common.protocol.Errors`).
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code on the wire.
    public var rawValue: Int16

    /// The code `rawValue`.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// -1: an unexpected server error.
    public static let unknownServerError = Self(rawValue: -1)
    /// 0: no error.
    public static let none = Self(rawValue: 0)
    /// 1: the offset is before the log start or after the end.
    public static let offsetOutOfRange = Self(rawValue: 1)
    /// 2: a message failed its checksum or is otherwise corrupt.
    public static let corruptMessage = Self(rawValue: 2)
    /// 3: the topic or partition does not exist.
    public static let unknownTopicOrPartition = Self(rawValue: 3)
    /// 6: this broker does not lead the partition.
    public static let notLeaderOrFollower = Self(rawValue: 6)
    /// 10: the batch is larger than the maximum.
    public static let messageTooLarge = Self(rawValue: 10)
    /// 12: the metadata of an offset commit is longer than the broker keeps.
    public static let offsetMetadataTooLarge = Self(rawValue: 12)
    /// 15: the coordinator is not available.
    public static let coordinatorNotAvailable = Self(rawValue: 15)
    /// 16: this broker is not the coordinator.
    public static let notCoordinator = Self(rawValue: 16)
    /// 17: the topic name is invalid.
    public static let invalidTopic = Self(rawValue: 17)
    /// 21: acks is not -1, 0 or 1.
    public static let invalidRequiredAcks = Self(rawValue: 21)
    /// 22: the generation is not the group's current one.
    public static let illegalGeneration = Self(rawValue: 22)
    /// 23: the group's members share no protocol.
    public static let inconsistentGroupProtocol = Self(rawValue: 23)
    /// 24: the group id is not a valid name.
    public static let invalidGroupId = Self(rawValue: 24)
    /// 25: the member id is not known to the group.
    public static let unknownMemberId = Self(rawValue: 25)
    /// 26: the session timeout is out of range.
    public static let invalidSessionTimeout = Self(rawValue: 26)
    /// 27: the group is rebalancing.
    public static let rebalanceInProgress = Self(rawValue: 27)
    /// 29: the client may not use the topic.
    public static let topicAuthorizationFailed = Self(rawValue: 29)
    /// 30: the client may not use the group.
    public static let groupAuthorizationFailed = Self(rawValue: 30)
    /// 33: the SASL mechanism is not enabled.
    public static let unsupportedSaslMechanism = Self(rawValue: 33)
    /// 34: a SASL request out of turn.
    public static let illegalSaslState = Self(rawValue: 34)
    /// 35: the broker does not support this version of the API.
    public static let unsupportedVersion = Self(rawValue: 35)
    /// 36: the topic exists already.
    public static let topicAlreadyExists = Self(rawValue: 36)
    /// 37: the partition count is invalid.
    public static let invalidPartitions = Self(rawValue: 37)
    /// 42: the request is malformed.
    public static let invalidRequest = Self(rawValue: 42)
    /// 45: an idempotent producer skipped sequence numbers.
    public static let outOfOrderSequenceNumber = Self(rawValue: 45)
    /// 46: an idempotent producer sent a sequence number again.
    public static let duplicateSequenceNumber = Self(rawValue: 46)
    /// 47: the producer's epoch is older than the partition's.
    public static let invalidProducerEpoch = Self(rawValue: 47)
    /// 56: the broker could not write or read the log (disk full, I/O error); retriable.
    public static let kafkaStorageError = Self(rawValue: 56)
    /// 58: SASL authentication failed (a wrong user or password).
    public static let saslAuthenticationFailed = Self(rawValue: 58)
    /// 76: the batch uses a compression codec the broker does not accept.
    public static let unsupportedCompressionType = Self(rawValue: 76)
    /// 79: a JoinGroup needs a member id (v4+).
    public static let memberIdRequired = Self(rawValue: 79)
    /// 81: the group has as many members as the broker allows.
    public static let groupMaxSizeReached = Self(rawValue: 81)
    /// 87: a record or batch is not acceptable (a control batch from a client).
    public static let invalidRecord = Self(rawValue: 87)

    public var description: String { "\(rawValue)" }
}
