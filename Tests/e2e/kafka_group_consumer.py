"""One member of a Kafka consumer group on logd's Kafka listener (run by test_kafka.py).

    python3 kafka_group_consumer.py confluent|kafka-python BOOTSTRAP GROUP TOPIC

Subscribes to TOPIC in GROUP (earliest where nothing is committed, auto-commit on, a session
of $KAFKA_SESSION_TIMEOUT_MS (6 s) with heartbeats every $KAFKA_HEARTBEAT_MS (500 ms)) and prints, one line each, flushed:

    assigned T P,P,...     after every rebalance (the member's whole assignment)
    record P O             per record consumed

SIGTERM closes the consumer cleanly (a last commit and LeaveGroup), then it exits 0.
"""
import os
import signal
import sys

SESSION_TIMEOUT_MS = int(os.environ.get("KAFKA_SESSION_TIMEOUT_MS", "6000"))
HEARTBEAT_MS = int(os.environ.get("KAFKA_HEARTBEAT_MS", "500"))

stopping = False


def stop(*_):
    global stopping
    stopping = True


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def assigned(topic, partitions):
    say("assigned %s %s" % (topic, ",".join(str(p) for p in sorted(partitions))))


def run_confluent(bootstrap, group, topic):
    from confluent_kafka import Consumer
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "session.timeout.ms": SESSION_TIMEOUT_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
        "auto.commit.interval.ms": HEARTBEAT_MS,
    })
    consumer.subscribe([topic], on_assign=lambda c, ps: assigned(topic, [p.partition for p in ps]),
                       on_revoke=lambda c, ps: assigned(topic, []))
    while not stopping:
        m = consumer.poll(0.2)
        if m is None:
            continue
        if m.error():
            say("error %s" % m.error())
            continue
        say("record %d %d" % (m.partition(), m.offset()))
    consumer.close()


def run_kafka_python(bootstrap, group, topic):
    from kafka import KafkaConsumer, ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            assigned(topic, [])

        def on_partitions_assigned(self, partitions):
            assigned(topic, [p.partition for p in partitions])

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=HEARTBEAT_MS, auto_commit_interval_ms=HEARTBEAT_MS)
    consumer.subscribe([topic], listener=Listener())
    while not stopping:
        for records in consumer.poll(timeout_ms=200).values():
            for m in records:
                say("record %d %d" % (m.partition, m.offset))
    consumer.close()


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    signal.signal(signal.SIGTERM, stop)
    client, bootstrap, group, topic = sys.argv[1:5]
    {"confluent": run_confluent, "kafka-python": run_kafka_python}[client](bootstrap, group, topic)
