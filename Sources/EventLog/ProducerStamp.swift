/// The identity of an idempotent producer for one append (Kafka's producer id, epoch and sequence).
public struct ProducerStamp: Hashable, Sendable {
    /// The producer's id (non-negative).
    public var producerID: Int64
    /// The producer's epoch; a newer epoch fences older ones.
    public var epoch: Int16
    /// The sequence number of the batch's first record.
    public var baseSequence: Int32

    /// Makes a stamp.
    public init(producerID: Int64, epoch: Int16, baseSequence: Int32) {
        self.producerID = producerID
        self.epoch = epoch
        self.baseSequence = baseSequence
    }
}
