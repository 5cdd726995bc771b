"""Torture over the Kafka listener: logd is killed with SIGKILL at random moments while
confluent-kafka's idempotent producer (`acks=all`) sends to an `fsync` topic of two partitions,
and started again on the same ports. Every record the producer saw acknowledged is in the log at
the offset it was acknowledged with; no record is in the log twice (the producer's retries
after each restart are deduplicated by its producer id and sequence, which the log keeps across
the crash); the producer meets no fatal error; the data directory verifies clean.
KAFKA_TORTURE_ROUNDS kills (5 here; `make torture` runs more)."""
import base64
import os
import random
import subprocess
import time

from conftest import Logd, call_json, free_port

ROUNDS = int(os.environ.get("KAFKA_TORTURE_ROUNDS", "5"))
TOPIC = "ktorture"
PARTITIONS = 2


def read_partition(url, partition):
    """Every record of a partition as (offset, value), read over HTTP from offset 0."""
    records, offset = [], 0
    while True:
        status, body = call_json(url, "GET", "/v1/topics/%s/records?partition=%d&offset=%d&limit=10000"
                                 % (TOPIC, partition, offset))
        assert status == 200, body
        if not body["records"]:
            return records
        # Kafka clients send bytes: values that are not JSON come back as `value_b64`.
        records += [(r["offset"], base64.b64decode(r["value_b64"]).decode() if "value_b64" in r else r["value"])
                    for r in body["records"]]
        offset = body["next_offset"]


def test_every_acknowledged_kafka_record_survives_sigkill(tmp_path):
    from confluent_kafka import KafkaException, Producer

    kafka = "127.0.0.1:%d" % free_port()
    server = Logd(tmp_path / "data", ["--kafka-listen", kafka, "--default-durability", "fsync"]).start()
    try:
        status, body = call_json(server.url, "PUT", "/v1/topics/" + TOPIC, {"partitions": PARTITIONS, "durability": "fsync"})
        assert status in (200, 201), body

        acked = {}       # (partition, offset) -> value
        failed = []
        fatal = []

        def delivered(err, msg):
            if err is not None:
                (fatal if err.fatal() else failed).append(str(err))
            else:
                acked[(msg.partition(), msg.offset())] = msg.value().decode()

        producer = Producer({
            "bootstrap.servers": kafka, "enable.idempotence": True, "acks": "all",
            "message.timeout.ms": 120000, "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200,
            "retry.backoff.ms": 20, "linger.ms": 2, "topic.metadata.refresh.interval.ms": 1000,
            "log_level": 0,  # librdkafka logs each refused reconnect while logd restarts
            "error_cb": lambda err: fatal.append(str(err)) if err.fatal() else None,
        })
        rng = random.Random(int(os.environ.get("KAFKA_TORTURE_SEED", "7")))
        sent = 0
        kills = 0
        for _ in range(ROUNDS):
            until = time.time() + rng.uniform(0.3, 1.2)
            while time.time() < until:
                value = "v%d" % sent
                try:
                    producer.produce(TOPIC, key=value.encode(), value=value.encode(), partition=sent % PARTITIONS,
                                     on_delivery=delivered)
                    sent += 1
                except BufferError:
                    pass
                producer.poll(0.001)
            server.kill9()
            kills += 1
            server.start()
        remaining = producer.flush(120)
        assert remaining == 0, "%d records never answered" % remaining
        assert not fatal, fatal

        seen = {}
        for partition in range(PARTITIONS):
            for offset, value in read_partition(server.url, partition):
                assert value not in seen, "%s is in the log twice: %s and %s" % (value, seen[value], (partition, offset))
                seen[value] = (partition, offset)
        lost = [(where, value) for where, value in acked.items() if seen.get(value) != where]
        assert not lost, "acknowledged but not at their offset after %d kills: %s" % (kills, lost[:5])
        assert len(acked) > 0 and kills == ROUNDS
        print("kafka torture: %d kills, %d sent, %d acknowledged, %d failed (never acknowledged), %d in the log; lost 0"
              % (kills, sent, len(acked), len(failed), len(seen)))
    finally:
        code = server.stop()  # also when an assertion failed: no logd is left running
    assert code == 0
    verify = subprocess.run([os.environ.get("LOG_DUMP_BIN", "log-dump"), "--verify", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
