import EventLog
/// A batch on its way to one target partition: bytes (base offset 0, any producer stamp), and
/// the idempotent producer's sequence once it was first sent, kept for every retry so the
/// target stores it once.
struct TargetBatch {
    /// Where it goes.
    var target: TopicPartition
    /// The whole record batch v2.
    var bytes: [UInt8]
    /// How many records it holds.
    var recordCount: Int
    /// The base sequence given at the first send; `nil` before, and again after the producer
    /// was reset.
    var sequence: Int32?
}
