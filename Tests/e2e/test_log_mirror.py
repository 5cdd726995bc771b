"""log-mirror ($LOG_MIRROR_BIN) between two real logds on their Kafka listeners: records produced
with keys, headers and timestamps on the first arrive on the second with all of them and in the
same partitions (or by key where the counts differ); a kill -9 of the mirror loses nothing and
writes again at most one batch per partition, counted and reported; a kill -9 and restart of the
source is ridden out. confluent-kafka (librdkafka) and kcat read the target. Docs/SCALING.md.
"""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import Logd, free_port
from test_kafka import KAFKA_RE, create_topic, kcat

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MIRROR = os.environ.get("LOG_MIRROR_BIN", "log-mirror")


class KafkaLogdOnPort(Logd):
    """A logd whose Kafka listener keeps its port across restarts (a mirror reconnects to it)."""

    def __init__(self, data_dir, log_path, extra_args=()):
        self.kafka_port = free_port()
        super().__init__(data_dir, ["--kafka-listen", "127.0.0.1:%d" % self.kafka_port] + list(extra_args), stderr_path=log_path)
        self.kafka = "127.0.0.1:%d" % self.kafka_port
        self._kafka_ready = threading.Event()

    def _line(self, line):
        if KAFKA_RE.match(line):
            self._kafka_ready.set()
        super()._line(line)

    def start(self, timeout=60):
        self._kafka_ready.clear()
        super().start(timeout)
        assert self._kafka_ready.wait(10), "no 'logd kafka listening on' line"
        return self


@pytest.fixture
def pair(tmp_path):
    source = KafkaLogdOnPort(tmp_path / "source", tmp_path / "source.log").start()
    target = KafkaLogdOnPort(tmp_path / "target", tmp_path / "target.log").start()
    yield source, target
    for server in (source, target):
        if server.proc.poll() is None:
            assert server.stop() == 0


def produce(server, topic, count, start=0, partition=None, compression="none", batch=50):
    """`count` records with keys (20 distinct), two headers and explicit timestamps, through
    confluent-kafka; returns them as (key, value, headers, timestamp)."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": server.kafka, "compression.type": compression, "linger.ms": 2,
                  "batch.num.messages": batch, "enable.idempotence": True})
    sent = []
    errors = []
    for i in range(start, start + count):
        key = b"key-%d" % (i % 20)
        value = b"value %d" % i
        headers = [("h1", b"one %d" % i), ("h2", b"")]
        ts = 1_700_000_000_000 + i
        kwargs = {} if partition is None else {"partition": partition}
        p.produce(topic, value=value, key=key, headers=headers, timestamp=ts,
                  on_delivery=lambda e, m: e and errors.append(e), **kwargs)
        sent.append((key, value, headers, ts))
        p.poll(0)
    assert p.flush(30) == 0
    assert not errors, errors
    return sent


def read_all(server, topic, partitions):
    """Every record of `topic`, per partition: (offset, key, value, headers, timestamp), read with
    confluent-kafka from the beginning to the end of each partition."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    c = Consumer({"bootstrap.servers": server.kafka, "group.id": "reader", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = {p: [] for p in range(partitions)}
    done = set()
    deadline = time.time() + 30
    while len(done) < partitions and time.time() < deadline:
        m = c.poll(1)
        if m is None:
            continue
        if m.error():
            assert m.error().code() == -191, m.error()  # _PARTITION_EOF
            done.add(m.partition())
            continue
        out[m.partition()].append((m.offset(), m.key(), m.value(), m.headers() or [], m.timestamp()[1]))
    c.close()
    assert len(done) == partitions, "not every partition reached its end"
    return out


class MirrorProcess:
    """A running log-mirror: its status lines (JSON, standard output) and notes (standard error)."""

    def __init__(self, source, target, *args, env=None):
        self.argv = [MIRROR, "--source", source.kafka, "--target", target.kafka, "--status-interval", "0.2",
                     "--fetch-wait-ms", "100", "--timeout-ms", "3000"] + list(args)
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.statuses = []
        self.notes = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.statuses, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.notes, False), daemon=True).start()

    @staticmethod
    def _read(stream, into, parse):
        for raw in iter(stream.readline, b""):
            line = raw.decode()
            into.append(json.loads(line) if parse else line.rstrip("\n"))

    def wait(self, timeout=30):
        code = self.proc.wait(timeout)
        time.sleep(0.1)  # the readers finish the last lines
        return code

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        return self.wait()


def wait_for(what, condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def records_only(per_partition):
    """The records without their offsets."""
    return {p: [r[1:] for r in records] for p, records in per_partition.items()}


def test_a_mirror_keeps_keys_headers_timestamps_partitions_and_offsets(pair):
    source, target = pair
    create_topic(source, "orders", 3)
    create_topic(target, "orders", 3)
    produce(source, "orders", 150, compression="lz4")
    produce(source, "orders", 150, start=150, compression="zstd")
    produce(source, "orders", 100, start=300)

    mirror = MirrorProcess(source, target, "--topic", "orders", "--until-caught-up")
    assert mirror.wait() == 0, mirror.notes
    final = mirror.statuses[-1]
    assert final["status"] == "stopped" and final["records"] == 400 and final["lag"] == 0 and final["duplicates"] == 0
    assert any("batches kept whole, by source partition" in n for n in mirror.notes), mirror.notes

    # Same partitions, same offsets, same keys, values, headers and timestamps.
    expected = read_all(source, "orders", 3)
    assert sum(len(r) for r in expected.values()) == 400
    assert read_all(target, "orders", 3) == expected

    # A second client, kcat (librdkafka 2.0.2), reads the target too.
    out = kcat(target, "-C", "-t", "orders", "-o", "beginning", "-e", "-q", "-f", "%p %o %k %T %h %s\n").stdout.decode().splitlines()
    assert len(out) == 400
    assert sorted(out) == sorted("%d %d %s %d h1=%s,h2= %s" % (p, r[0], r[1].decode(), r[4], r[3][0][1].decode(), r[2].decode())
                                 for p, records in expected.items() for r in records)

    # Its group's commits are visible on the source like any group's.
    committed = {(c["partition"], c["offset"]) for c in json.loads(
        subprocess.run(["curl", "-s", source.url + "/v1/groups/log-mirror/commits"], capture_output=True, timeout=10).stdout)["offsets"]}
    assert committed == {(p, len(expected[p])) for p in range(3)}

    # Nothing new: a rerun (of every topic) copies nothing and reports no duplicates.
    again = MirrorProcess(source, target, "--all-topics", "--until-caught-up")
    assert again.wait() == 0, again.notes
    assert again.statuses[-1]["records"] == 0 and again.statuses[-1]["duplicates"] == 0
    assert read_all(target, "orders", 3) == expected


def test_different_partition_counts_spread_records_by_key_with_murmur2(pair):
    from kafka.partitioner.default import murmur2
    source, target = pair
    create_topic(source, "events", 2)
    create_topic(target, "events", 3)
    sent = produce(source, "events", 200, compression="lz4")

    mirror = MirrorProcess(source, target, "--topic", "events", "--until-caught-up")
    assert mirror.wait() == 0, mirror.notes
    assert any("records by key (murmur2)" in n for n in mirror.notes), mirror.notes
    assert mirror.statuses[-1]["records"] == 200

    got = read_all(target, "events", 3)
    assert sum(len(r) for r in got.values()) == 200
    for partition, records in got.items():
        for _, key, _, _, _ in records:
            assert (murmur2(key) & 0x7fffffff) % 3 == partition, key
    # Every record, with its headers and timestamp; per key, in the order produced.
    by_key = {}
    for records in got.values():
        for _, key, value, headers, ts in records:
            by_key.setdefault(key, []).append((key, value, headers, ts))
    expected = {}
    for key, value, headers, ts in sent:
        expected.setdefault(key, []).append((key, value, headers, ts))
    assert by_key == expected


def test_a_kill_9_of_the_mirror_loses_nothing_and_reports_its_duplicates(pair):
    """The test seam LOG_MIRROR_FAULT_KILL_AFTER_ACKS makes the mirror SIGKILL itself after the
    target acknowledged a wave and before the commit, the worst moment: the restart writes that
    wave again (one batch per partition at most), and says how many records it wrote twice."""
    source, target = pair
    create_topic(source, "pay", 2)
    create_topic(target, "pay", 2)
    produce(source, "pay", 400, batch=40)
    expected = records_only(read_all(source, "pay", 2))

    small = ["--topic", "pay", "--partition-max-bytes", "1024", "--fetch-max-bytes", "2048"]
    killed = MirrorProcess(source, target, *small, env={"LOG_MIRROR_FAULT_KILL_AFTER_ACKS": "3"})
    assert killed.wait() == -signal.SIGKILL
    after_kill = records_only(read_all(target, "pay", 2))
    assert 0 < sum(len(r) for r in after_kill.values()) < 400

    resumed = MirrorProcess(source, target, *small, "--until-caught-up")
    assert resumed.wait() == 0, resumed.notes
    got = records_only(read_all(target, "pay", 2))
    duplicates = sum(len(got[p]) - len(expected[p]) for p in range(2))
    assert duplicates > 0, "the kill came after an acknowledgement, before its commit"
    assert resumed.statuses[-1]["duplicates"] == duplicates
    assert any("written after the last commit" in n and "mirrored again, as duplicates" in n for n in resumed.notes), resumed.notes
    for p in range(2):
        # Nothing lost, nothing reordered: the target is the source with one run written twice,
        # at most one source batch (40 records) per partition.
        extra = len(got[p]) - len(expected[p])
        assert 0 <= extra <= 40
        if extra:
            cut = next(i for i in range(len(got[p])) if i >= len(expected[p]) or got[p][i] != expected[p][i])
            assert got[p][:cut] == expected[p][:cut]
            assert got[p][cut:] == expected[p][cut - extra:]
        else:
            assert got[p] == expected[p]

    # A kill -9 at a random moment of a slow mirror, then a resume: nothing lost either.
    produce(source, "pay", 200, start=400, batch=20)
    expected = records_only(read_all(source, "pay", 2))
    before = sum(len(r) for r in got.values())
    running = MirrorProcess(source, target, *small)
    wait_for("the mirror to be mid-stream", lambda: any(s["records"] > 60 for s in running.statuses), 30)
    assert running.kill9() == -signal.SIGKILL
    final = MirrorProcess(source, target, *small, "--until-caught-up")
    assert final.wait() == 0, final.notes
    got = records_only(read_all(target, "pay", 2))
    new_duplicates = sum(len(got[p]) for p in range(2)) - before - 200
    assert 0 <= new_duplicates <= 2 * 20
    assert final.statuses[-1]["duplicates"] == new_duplicates
    for p in range(2):
        # Every record, in order, once duplicates (the same value again) are left out.
        seen, unique = set(), []
        for record in got[p]:
            if record[1] not in seen:
                seen.add(record[1])
                unique.append(record)
        assert unique == expected[p]


def test_the_mirror_rides_out_a_kill_9_and_restart_of_the_source(pair):
    source, target = pair
    create_topic(source, "logs", 2)
    create_topic(target, "logs", 2)
    produce(source, "logs", 100)
    mirror = MirrorProcess(source, target, "--topic", "logs")
    wait_for("the first records", lambda: any(s["records"] == 100 and s["lag"] == 0 for s in mirror.statuses))

    assert source.kill9() == -signal.SIGKILL
    wait_for("the mirror to notice", lambda: any("retrying" in n for n in mirror.notes), 15)
    source.start()
    produce(source, "logs", 100, start=100)
    wait_for("the records after the restart",
             lambda: any(s["records"] == 200 and s["lag"] == 0 for s in mirror.statuses), 30)
    assert any("recovered after" in n for n in mirror.notes), mirror.notes
    assert mirror.stop() == 0
    assert mirror.statuses[-1]["status"] == "stopped"

    expected = read_all(source, "logs", 2)
    assert sum(len(r) for r in expected.values()) == 200
    assert read_all(target, "logs", 2) == expected


def test_with_authentication_on_both_sides_the_mirror_uses_sasl_plain(tmp_path):
    from conftest import call
    token = "mirror-token-e2e"
    source = KafkaLogdOnPort(tmp_path / "source", tmp_path / "source.log", ["--auth-token", token]).start()
    target = KafkaLogdOnPort(tmp_path / "target", tmp_path / "target.log", ["--auth-token", token]).start()
    try:
        for server in (source, target):
            assert call(server.url, "PUT", "/v1/topics/secure", {"partitions": 2}, token)[0] == 201
        auth = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=e2e",
                "-X", "sasl.password=" + token]
        kcat(source, *auth, "-P", "-t", "secure", "-K:", stdin=b"".join(b"k%d:v%d\n" % (i, i) for i in range(50)))

        # Without credentials: retried (a broker may be restarting), with the likely cause said.
        refused = MirrorProcess(source, target, "--topic", "secure", "--until-caught-up")
        wait_for("the hint", lambda: any("it may require SASL authentication" in n for n in refused.notes), 10)
        assert refused.stop() == 0

        mirror = MirrorProcess(source, target, "--topic", "secure", "--until-caught-up", "--source-user", "mirror",
                               "--target-user", "mirror",
                               env={"LOG_MIRROR_SOURCE_PASSWORD": token, "LOG_MIRROR_TARGET_PASSWORD": token})
        assert mirror.wait() == 0, mirror.notes
        assert mirror.statuses[-1]["records"] == 50
        out = kcat(target, *auth, "-C", "-t", "secure", "-o", "beginning", "-e", "-q", "-f", "%k:%s\n").stdout.split()
        assert sorted(out) == sorted(b"k%d:v%d" % (i, i) for i in range(50))
    finally:
        assert source.stop() == 0 and target.stop() == 0


def test_usage_errors_are_one_sentence(pair):
    source, target = pair
    create_topic(source, "a", 2)
    create_topic(target, "a", 3)
    p = subprocess.run([MIRROR, "--source", source.kafka, "--target", target.kafka, "--topic", "a",
                        "--partitioning", "source", "--until-caught-up"], capture_output=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr.decode().strip().splitlines()[-1] == \
        "log-mirror: error: --partitioning source needs as many partitions on the target as on the source: a has 2 on the source and 3 on the target."
    p = subprocess.run([MIRROR, "--source", source.kafka, "--target", target.kafka, "--topic", "missing"],
                       capture_output=True, timeout=30)
    assert p.returncode == 1 and "the topic missing does not exist on the source" in p.stderr.decode()
    p = subprocess.run([MIRROR, "--source", "nohost", "--target", target.kafka, "--topic", "a"], capture_output=True, timeout=30)
    assert p.returncode == 64 and b"--source" in p.stderr
    h = subprocess.run([MIRROR, "--help"], capture_output=True, timeout=30)
    assert h.returncode == 0 and b"Examples:" in h.stdout and b"--until-caught-up" in h.stdout
