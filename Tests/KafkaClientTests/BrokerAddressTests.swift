import KafkaClient
import Testing

/// `host:port` lists as log-mirror's --source and --target take them (Kafka's bootstrap.servers).
@Suite struct BrokerAddressTests {
    @Test func aListOfHostsAndPorts() throws {
        let list = try #require(BrokerAddress.list("kafka-1:9092, 10.0.0.7:19092,[::1]:9093"))
        #expect(list == [BrokerAddress(host: "kafka-1", port: 9092), BrokerAddress(host: "10.0.0.7", port: 19092),
                         BrokerAddress(host: "::1", port: 9093)])
        #expect(list.map(\.description) == ["kafka-1:9092", "10.0.0.7:19092", "[::1]:9093"])
    }

    @Test(arguments: ["", "kafka-1", "kafka-1:", ":9092", "kafka-1:0", "kafka-1:65536", "kafka-1:x", "a:1,,b"])
    func notAnAddress(_ text: String) {
        #expect(BrokerAddress.list(text) == nil)
    }

    @Test func retriableErrorsAreTheOnesABrokerRestartCauses() {
        #expect(KafkaClientError(.connectionFailed, "x").isRetriable)
        #expect(KafkaClientError(.timedOut, "x").isRetriable)
        #expect(KafkaClientError(.brokerError, "x", kafkaErrorCode: .notCoordinator).isRetriable)
        #expect(!KafkaClientError(.brokerError, "x", kafkaErrorCode: .topicAuthorizationFailed).isRetriable)
        #expect(!KafkaClientError(.authenticationFailed, "x").isRetriable)
        #expect(!KafkaClientError(.protocolViolation, "x").isRetriable)
    }
}
