/// The one error type of the `EventLog` module: a code to match on and one clear sentence.
///
/// ```swift
/// do { try await partition.read(from: 10, maxRecords: 100) }
/// catch LogError.Code.offsetOutOfRange { … }
/// ```
public struct LogError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value to match on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: UInt8 {
            case invalidArgument, invalidTopicName, topicNotFound, topicExists, partitionNotFound
            case offsetOutOfRange, corruptData, diskFull, ioError, locked, closed
            case unsupportedCodec, recordTooLarge, configurationMismatch, staleProducerEpoch
            case outOfOrderSequence, internalTopic, groupNotFound, unknownMember, staleGeneration
            case rebalanceInProgress, notCompacted, invalidGroupName, readOnly, topicLimitReached, groupNotEmpty, fixedSetting
            case inconsistentGroupProtocol, groupLimitReached, partitionLimitReached
            case wouldBlock
        }
        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// An argument was outside its allowed range or malformed.
        public static var invalidArgument: Self { .init(.invalidArgument) }
        /// A topic name breaks the naming rule (1–249 of `[A-Za-z0-9._-]`, not `.` or `..`).
        public static var invalidTopicName: Self { .init(.invalidTopicName) }
        /// A group name breaks the naming rule.
        public static var invalidGroupName: Self { .init(.invalidGroupName) }
        /// No topic of that name exists.
        public static var topicNotFound: Self { .init(.topicNotFound) }
        /// A topic of that name exists with other settings.
        public static var topicExists: Self { .init(.topicExists) }
        /// The topic has no partition of that number.
        public static var partitionNotFound: Self { .init(.partitionNotFound) }
        /// The offset lies before the partition's start or after its end.
        public static var offsetOutOfRange: Self { .init(.offsetOutOfRange) }
        /// Stored bytes failed a checksum or framing check.
        public static var corruptData: Self { .init(.corruptData) }
        /// The disk is full (`ENOSPC`, `EDQUOT`); nothing was made visible.
        public static var diskFull: Self { .init(.diskFull) }
        /// Any other failed system call.
        public static var ioError: Self { .init(.ioError) }
        /// The partition refuses writes since a sync of its files failed (or a failed write
        /// could not be cut back); reads still work. Reopen the store to write again
        /// (see `Partition.writeFailure`).
        public static var readOnly: Self { .init(.readOnly) }
        /// Another process holds the data directory's lock.
        public static var locked: Self { .init(.locked) }
        /// The store or partition was closed.
        public static var closed: Self { .init(.closed) }
        /// A compression codec this build does not support (gzip, snappy).
        public static var unsupportedCodec: Self { .init(.unsupportedCodec) }
        /// A record or batch exceeds the configured maximum size.
        public static var recordTooLarge: Self { .init(.recordTooLarge) }
        /// Settings given for an existing object differ from its own.
        public static var configurationMismatch: Self { .init(.configurationMismatch) }
        /// An idempotent producer used an epoch older than the partition has seen.
        public static var staleProducerEpoch: Self { .init(.staleProducerEpoch) }
        /// An idempotent producer skipped or reordered sequence numbers.
        public static var outOfOrderSequence: Self { .init(.outOfOrderSequence) }
        /// The topic is internal and cannot be written by clients.
        public static var internalTopic: Self { .init(.internalTopic) }
        /// No group of that name has state.
        public static var groupNotFound: Self { .init(.groupNotFound) }
        /// The member id is not (or no longer) part of the group.
        public static var unknownMember: Self { .init(.unknownMember) }
        /// The member's generation is older than the group's: it was fenced by a rebalance.
        public static var staleGeneration: Self { .init(.staleGeneration) }
        /// The group is rebalancing; the member must heartbeat to learn its assignment.
        public static var rebalanceInProgress: Self { .init(.rebalanceInProgress) }
        /// A compaction was asked of a topic whose cleanup policy does not compact.
        public static var notCompacted: Self { .init(.notCompacted) }
        /// A topic was not created: the store holds as many topics as the creator allowed.
        public static var topicLimitReached: Self { .init(.topicLimitReached) }
        /// A topic was not created, or did not grow: the store would hold more partitions than
        /// ``LogStore/Options/maxPartitions`` allows.
        public static var partitionLimitReached: Self { .init(.partitionLimitReached) }
        /// The group still has members; only a group without members can be deleted.
        public static var groupNotEmpty: Self { .init(.groupNotEmpty) }
        /// The group's members use another membership protocol: a Kafka client's join of a
        /// group whose members joined through the library or HTTP (or the reverse), or a Kafka
        /// member whose protocol type or protocols no other member shares.
        public static var inconsistentGroupProtocol: Self { .init(.inconsistentGroupProtocol) }
        /// A bound on groups was reached: groups with members, members of one group, or the
        /// bytes of members' protocol metadata and assignments.
        public static var groupLimitReached: Self { .init(.groupLimitReached) }
        /// A setting fixed at a topic's creation was asked to change (``LogStore/alterTopic(named:_:)``):
        /// the partition count (it never shrinks; growing it is not supported yet), the
        /// compression codec, the segment size or age, the index interval, the batch limit.
        public static var fixedSetting: Self { .init(.fixedSetting) }

        /// A read that may use only what is in memory met bytes that are not (internal: it
        /// never leaves the module; ``Partition/readIfCached(from:maxRecords:maxBytes:)``
        /// answers `nil` instead).
        static var wouldBlock: Self { .init(.wouldBlock) }

        public var description: String { "\(storage)" }

        /// Lets `catch LogError.Code.diskFull { … }` read naturally.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? LogError)?.code == code
        }
    }

    /// What went wrong.
    public var code: Code
    /// One sentence for a human: what, where (file, offset), expected against found.
    public var message: String
    /// The underlying error, such as a ``SystemError``, when there is one.
    public var cause: (any Error)?
    /// The offsets the error concerns: for ``Code/offsetOutOfRange`` the partition's
    /// `start ..< end`; for ``Code/corruptData`` the unreadable offsets, so a reader can
    /// resume at `range.end`.
    public var range: OffsetRange?

    /// Makes an error from its parts.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, range: OffsetRange? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.range = range
    }

    public var description: String { "\(code): \(message)" }

    /// The error of a read from memory only that met bytes not in memory, or anything it
    /// leaves to the blocking read that follows it (damage, and reading around it).
    static let wouldBlock = LogError(.wouldBlock, "the bytes are not all in the page cache; read them on an I/O thread.")
}

/// A failed system call's `errno`, kept as the ``LogError/cause`` of I/O errors.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The raw `errno` value.
    public var rawValue: Int32
    /// The name of the failed call, such as `"pwrite"`.
    public var call: String

    /// Makes an error from a call name and an `errno` value.
    public init(_ call: String, _ rawValue: Int32) {
        self.call = call
        self.rawValue = rawValue
    }

    public var description: String { "\(call): \(errorString(rawValue)) (errno \(rawValue))" }
}
