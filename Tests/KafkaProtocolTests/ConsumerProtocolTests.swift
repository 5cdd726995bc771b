import KafkaProtocol
import Testing

/// What the broker reads of the consumer protocol's bytes (to show a group's topics and
/// partitions); the bytes themselves are relayed as they are.
@Suite struct ConsumerProtocolTests {
    /// kcat's captured JoinGroup v5 carries a v1 subscription of t1 for each of its assignors.
    @Test func kcatsSubscriptionNamesItsTopic() throws {
        let golden = GoldenFrame.named("kcat-group", "JoinGroup-v5-request")
        let request = try #require(try KafkaRequestFrame.decode(golden.frame, advertised: .standard).request)
        guard case .joinGroup(let join) = request.body else {
            Issue.record("not a JoinGroup")
            return
        }
        #expect(join.protocolType == ConsumerProtocol.protocolType)
        #expect(join.protocols.map(\.name) == ["range", "roundrobin"])
        #expect(join.protocols.map { ConsumerProtocol.subscribedTopics($0.metadata) } == [["t1"], ["t1"]])
    }

    @Test func assignmentsNameTheirPartitions() {
        var w = KafkaWriter()
        w.writeInt16(0)
        w.writeArrayCount(2)
        w.writeString("a")
        w.writeArrayCount(2)
        w.writeInt32(0)
        w.writeInt32(3)
        w.writeString("b")
        w.writeArrayCount(0)
        w.writeInt32(-1)
        let read = ConsumerProtocol.assignedPartitions(w.bytes)
        #expect(read?.map(\.topic) == ["a", "b"] && read?.map(\.partitions) == [[0, 3], []])
        #expect(ConsumerProtocol.assignedPartitions([])?.isEmpty == true, "a leader may send an empty assignment")
    }

    @Test(arguments: [[UInt8]([0xff, 0xff]), [0, 0, 0x7f, 0xff, 0xff, 0xff], [0, 0, 0, 0, 0, 1, 0, 9]])
    func bytesOfAnotherProtocolAreNotRead(_ bytes: [UInt8]) {
        #expect(ConsumerProtocol.subscribedTopics(bytes) == nil)
        #expect(ConsumerProtocol.assignedPartitions(bytes) == nil)
    }
}
