"""The Kafka listener against real clients: kcat 1.7.1 (librdkafka 2.0.2), confluent-kafka 2.16
(librdkafka 2.16) and kafka-python 3.0.12, and raw frames for what clients never send.

Every test starts its own logd with `--kafka-listen 127.0.0.1:0` (the port is read from its
`logd kafka listening on HOST:PORT` line). Docs/KAFKA.md describes what is tested here.
"""
import json
import os
import re
import socket
import struct
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import Logd, produce

# kafka-python 3.0.12 loads its schemas with importlib.resources calls Python deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KAFKA_RE = re.compile(r"^logd kafka listening on (\S+):(\d+)$")
GOLDEN = os.path.join(os.path.dirname(__file__), "..", "KafkaProtocolTests", "Golden")


class KafkaLogd(Logd):
    """A logd with its Kafka listener on a free port."""

    def __init__(self, data_dir, extra_args=(), stderr_path=None):
        super().__init__(data_dir, ["--kafka-listen", "127.0.0.1:0"] + list(extra_args), stderr_path)
        self.kafka = None
        self._kafka_ready = threading.Event()

    def _line(self, line):
        m = KAFKA_RE.match(line)
        if m:
            self.kafka = "%s:%s" % (m.group(1), m.group(2))
            self.kafka_port = int(m.group(2))
            self._kafka_ready.set()
        super()._line(line)

    def start(self, timeout=60):
        super().start(timeout)
        assert self._kafka_ready.wait(10), "no 'logd kafka listening on' line"
        return self


@pytest.fixture
def broker(tmp_path):
    server = KafkaLogd(tmp_path / "data", stderr_path=tmp_path / "logd.log").start()
    yield server
    assert server.stop() == 0


def kcat(server, *args, stdin=None, timeout=30, check=True):
    p = subprocess.run(["kcat", "-b", server.kafka] + list(args), input=stdin, capture_output=True, timeout=timeout)
    if check:
        assert p.returncode == 0, p.stderr.decode()
    return p


def consume(server, topic, count):
    """The first `count` values of partition 0 of `topic`, read with confluent-kafka's consumer."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": server.kafka, "group.id": "none", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    values = []
    while len(values) < count:
        m = c.poll(10)
        assert m is not None and not m.error(), m and m.error()
        values.append(m.value())
    c.close()
    return values


def create_topic(server, name, partitions):
    req = urllib.request.Request("%s/v1/topics/%s" % (server.url, name), method="PUT",
                                 data=json.dumps({"partitions": partitions}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status in (200, 201)


def http_records(server, topic, partition=0):
    with urllib.request.urlopen("%s/v1/topics/%s" % (server.url, topic), timeout=10) as r:
        end = json.load(r)["partitions"][partition]["end_offset"]
    return end


# Raw frames -----------------------------------------------------------------------------------

def frame(key, version, correlation, body, client_id=b"e2e"):
    header = struct.pack(">hhih", key, version, correlation, len(client_id)) + client_id
    return struct.pack(">i", len(header) + len(body)) + header + body


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.kafka_port), timeout=10)
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_response(s):
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    body = recv_exact(s, size)
    return struct.unpack(">i", body[:4])[0], body[4:]


def closed(s, timeout=5):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def kstr(text):
    b = text.encode()
    return struct.pack(">h", len(b)) + b


def fetch_v4(topic, partition, offset, max_wait_ms, min_bytes=1):
    """Fetch v4: replica -1, max_wait, min_bytes, max_bytes, isolation 0, one topic, one partition."""
    return (struct.pack(">iiiib", -1, max_wait_ms, min_bytes, 1 << 20, 0) + struct.pack(">i", 1) + kstr(topic)
            + struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, 1 << 20))


def parse_fetch_v4(body):
    """The first partition of a Fetch v4 response: error, high watermark, record bytes."""
    p = 4  # throttle
    p += 4  # topic count
    n = struct.unpack(">h", body[p:p + 2])[0]
    p += 2 + n + 4
    _, error, hwm, _lso = struct.unpack(">ihqq", body[p:p + 22])
    p += 22
    aborted = struct.unpack(">i", body[p:p + 4])[0]
    p += 4 + max(0, aborted) * 16
    length = struct.unpack(">i", body[p:p + 4])[0]
    return error, hwm, body[p + 4:p + 4 + max(0, length)]


def golden(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return f.read()


# Metadata -------------------------------------------------------------------------------------

def test_kcat_lists_the_broker_at_its_advertised_address_and_the_topics(broker):
    create_topic(broker, "t1", 1)
    create_topic(broker, "t2", 2)
    meta = json.loads(kcat(broker, "-L", "-J").stdout)
    assert meta["brokers"] == [{"id": 1, "name": broker.kafka}]
    assert sorted((t["topic"], len(t["partitions"])) for t in meta["topics"]) == [("t1", 1), ("t2", 2)]
    assert all(p["leader"] == 1 for t in meta["topics"] for p in t["partitions"])


def test_the_advertised_host_is_the_one_given(tmp_path):
    server = KafkaLogd(tmp_path / "data", ["--kafka-advertised-host", "127.0.0.1"]).start()
    try:
        meta = json.loads(kcat(server, "-L", "-J").stdout)
        assert meta["brokers"][0]["name"] == "127.0.0.1:%d" % server.kafka_port
    finally:
        assert server.stop() == 0


def test_a_wildcard_listen_address_needs_an_advertised_host(tmp_path):
    p = subprocess.run([os.environ.get("LOGD_BIN", "logd"), "--data-dir", str(tmp_path / "d"), "--port", "0",
                        "--kafka-listen", "0.0.0.0:0"], capture_output=True, timeout=30)
    assert p.returncode != 0
    assert b"--kafka-advertised-host" in p.stderr


def test_the_listener_is_off_while_authentication_is_on(tmp_path):
    p = subprocess.run([os.environ.get("LOGD_BIN", "logd"), "--data-dir", str(tmp_path / "d"), "--port", "0",
                        "--auth-token", "secret", "--kafka-listen", "127.0.0.1:0"], capture_output=True, timeout=30)
    assert p.returncode != 0
    assert b"no authentication yet" in p.stderr


# Produce and consume --------------------------------------------------------------------------

def test_kcat_produces_1000_lines_and_reads_them_back_in_order(broker):
    kcat(broker, "-P", "-t", "t1", stdin=b"".join(b"%d\n" % i for i in range(1, 1001)))
    lines = kcat(broker, "-C", "-t", "t1", "-o", "beginning", "-e", "-q").stdout.decode().split()
    assert lines == [str(i) for i in range(1, 1001)]
    assert kcat(broker, "-C", "-t", "t1", "-o", "500", "-c", "1", "-e", "-q").stdout.decode().split() == ["501"]
    assert kcat(broker, "-C", "-t", "t1", "-o", "-3", "-e", "-q").stdout.decode().split() == ["998", "999", "1000"]
    # The same store: the HTTP API sees the records Kafka clients wrote.
    assert http_records(broker, "t1") == 1000


def test_records_written_over_http_are_read_by_kcat(broker):
    produce(broker.url, "h1", [{"key": "k", "value": "from http %d" % i} for i in range(5)])
    out = kcat(broker, "-C", "-t", "h1", "-o", "beginning", "-e", "-q", "-f", "%k %s\n").stdout.decode().splitlines()
    # A JSON value is stored as its JSON text.
    assert out == ['k "from http %d"' % i for i in range(5)]


def test_keys_and_headers_round_trip(broker):
    create_topic(broker, "t2", 2)
    kcat(broker, "-P", "-t", "t2", "-K:", "-H", "h=1", stdin=b"k1:v1\nk2:v2\nk1:v3\n")
    out = kcat(broker, "-C", "-t", "t2", "-o", "beginning", "-e", "-q", "-f", "%p %k %s %h\n").stdout.decode().splitlines()
    assert sorted(line.split(" ", 1)[1] for line in out) == ["k1 v1 h=1", "k1 v3 h=1", "k2 v2 h=1"]
    partitions = {line.split()[1]: set() for line in out}
    for line in out:
        partitions[line.split()[1]].add(line.split()[0])
    assert all(len(p) == 1 for p in partitions.values()), "one key, one partition"


@pytest.mark.parametrize("codec", ["lz4", "zstd", "gzip"])
def test_kcat_codecs_round_trip(broker, codec):
    """kcat 1.7.1 (librdkafka 2.0.2) compresses zstd only: against Produce 3-8 it sends lz4 and gzip
    batches uncompressed (Docs/KAFKA.md, client notes); every line is stored either way."""
    lines = [b"%s line %03d %s" % (codec.encode(), i, b"abcdefgh" * 5) for i in range(200)]
    kcat(broker, "-P", "-t", "c-" + codec, "-z", codec, stdin=b"\n".join(lines) + b"\n")
    out = kcat(broker, "-C", "-t", "c-" + codec, "-o", "beginning", "-e", "-q").stdout.split(b"\n")[:-1]
    assert out == lines


def test_confluent_kafka_lz4_and_zstd_are_stored_and_gzip_and_snappy_get_76(broker):
    from confluent_kafka import Producer
    results = {}
    for codec in ["lz4", "zstd", "gzip", "snappy"]:
        p = Producer({"bootstrap.servers": broker.kafka, "compression.type": codec, "linger.ms": 5})
        errors = []
        for i in range(50):
            p.produce("cc", value=b"%s %03d %s" % (codec.encode(), i, b"abcdefgh" * 5), on_delivery=lambda e, m: errors.append(e))
        assert p.flush(20) == 0
        results[codec] = {None if e is None else e.code() for e in errors}
    assert results["lz4"] == {None} and results["zstd"] == {None}
    assert results["gzip"] == {76} and results["snappy"] == {76}
    values = consume(broker, "cc", 100)
    assert [v.split()[0] for v in values] == [b"lz4"] * 50 + [b"zstd"] * 50


def test_kafka_python_idempotent_producer_and_confluent_consumer(broker):
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=broker.kafka)   # enable_idempotence defaults to True
    for i in range(100):
        p.send("kp", key=b"k", value=b"kafka-python %d" % i)
    p.flush(20)
    p.close()
    values = consume(broker, "kp", 100)
    assert values == [b"kafka-python %d" % i for i in range(100)]


def test_a_retried_idempotent_batch_is_stored_once(broker):
    """confluent-kafka's captured idempotent Produce v8 (producer id 4242, sequence 0, 3 records),
    sent twice on one connection: the retry is answered with the first offset and not stored."""
    create_topic(broker, "t1", 1)
    request = golden("confluent-produce/Produce-v8-request.bin")
    s = connect(broker)
    offsets = []
    for _ in range(2):
        s.sendall(request)
        _, body = read_response(s)
        # [topic, [index, error, base_offset, ...]]
        n = struct.unpack(">h", body[4:6])[0]
        p = 6 + n + 4
        index, error, base = struct.unpack(">ihq", body[p:p + 14])
        assert error == 0
        offsets.append(base)
    s.close()
    assert offsets == [0, 0]
    assert http_records(broker, "t1") == 3


def test_acks_0_gets_no_response_and_the_connection_stays_in_sync(broker):
    create_topic(broker, "t1", 1)
    request = bytearray(golden("kcat-produce/Produce-v7-request.bin"))
    # acks sits after the size, header (2+2+4+2+len(client id)) and the null transactional id.
    client_id = struct.unpack(">h", request[12:14])[0]
    at = 4 + 10 + client_id + 2
    assert struct.unpack(">h", request[at:at + 2])[0] == -1
    request[at:at + 2] = struct.pack(">h", 0)
    s = connect(broker)
    s.sendall(bytes(request))
    s.sendall(frame(18, 0, 4242, b""))
    correlation, body = read_response(s)
    assert correlation == 4242 and struct.unpack(">h", body[:2])[0] == 0
    s.close()
    assert http_records(broker, "t1") == 5


# Fetch --------------------------------------------------------------------------------------

def test_fetch_long_polls_until_an_append_wakes_it(broker):
    create_topic(broker, "lp", 1)
    s = connect(broker)
    started = time.monotonic()
    threading.Timer(0.5, lambda: produce(broker.url, "lp", [{"value": "wake up"}])).start()
    s.sendall(frame(1, 4, 1, fetch_v4("lp", 0, 0, 10_000)))
    _, body = read_response(s)
    elapsed = time.monotonic() - started
    error, hwm, records = parse_fetch_v4(body)
    assert error == 0 and hwm == 1 and b"wake up" in records
    assert 0.4 < elapsed < 5, elapsed
    # With nothing to wake it, it answers after max_wait_ms, empty.
    started = time.monotonic()
    s.sendall(frame(1, 4, 2, fetch_v4("lp", 0, 1, 300)))
    _, body = read_response(s)
    assert 0.25 < time.monotonic() - started < 3
    assert parse_fetch_v4(body) == (0, 1, b"")
    # min_bytes 0 asks for an answer at once.
    started = time.monotonic()
    s.sendall(frame(1, 4, 3, fetch_v4("lp", 0, 1, 5_000, min_bytes=0)))
    _, body = read_response(s)
    assert time.monotonic() - started < 1
    assert parse_fetch_v4(body) == (0, 1, b"")
    s.close()


def test_fetch_serves_at_least_one_whole_batch_and_out_of_range_is_error_1(broker):
    produce(broker.url, "big", [{"value": "x" * 50_000}])
    s = connect(broker)
    request = bytearray(fetch_v4("big", 0, 0, 0))
    request[-4:] = struct.pack(">i", 100)            # partition_max_bytes: 100, below the batch
    s.sendall(frame(1, 4, 1, bytes(request)))
    error, hwm, records = parse_fetch_v4(read_response(s)[1])
    assert error == 0 and hwm == 1 and len(records) > 50_000
    assert struct.unpack(">i", records[12:16])[0] == -1, "leader epoch -1"
    s.sendall(frame(1, 4, 2, fetch_v4("big", 0, 7, 0)))
    error, hwm, records = parse_fetch_v4(read_response(s)[1])
    assert (error, hwm, records) == (1, 1, b"")
    s.close()


def test_unknown_topics_are_error_3_for_consumers(broker):
    p = kcat(broker, "-C", "-t", "nope", "-e", "-q", check=False, timeout=30)
    assert b"Unknown topic or partition" in p.stderr, p.stderr


def test_list_offsets_by_timestamp(broker):
    from confluent_kafka import Consumer, Producer, TopicPartition
    p = Producer({"bootstrap.servers": broker.kafka})
    for ts in [1000, 2000, 3000]:
        p.produce("ts", value=b"at %d" % ts, timestamp=ts)
    assert p.flush(10) == 0
    c = Consumer({"bootstrap.servers": broker.kafka, "group.id": "none"})
    found = [c.offsets_for_times([TopicPartition("ts", 0, t)], timeout=10)[0].offset for t in [0, 1500, 2000, 3000, 9000]]
    low, high = c.get_watermark_offsets(TopicPartition("ts", 0), timeout=10)
    c.close()
    assert found == [0, 1, 1, 2, -1]
    assert (low, high) == (0, 3)


# Protocol violations --------------------------------------------------------------------------

def test_api_versions_v4_gets_the_v0_fallback(broker):
    s = connect(broker)
    s.sendall(frame(18, 4, 77, b"\x04e2e\x041.0\x00"))
    correlation, body = read_response(s)
    assert correlation == 77
    assert body == struct.pack(">hihhh", 35, 1, 18, 0, 2)
    # The same connection goes on with v0.
    s.sendall(frame(18, 0, 78, b""))
    correlation, body = read_response(s)
    assert correlation == 78
    error, count = struct.unpack(">hi", body[:6])
    keys = {struct.unpack(">hhh", body[6 + 6 * i:12 + 6 * i]) for i in range(count)}
    assert error == 0 and (0, 3, 8) in keys and (1, 4, 11) in keys and (18, 0, 2) in keys
    s.close()


def test_an_unadvertised_version_closes_the_connection_after_a_log_line(broker, tmp_path):
    s = connect(broker)
    s.sendall(frame(0, 2, 1, b"\x00\x01\x00\x00\x03\xe8\x00\x00\x00\x00"))
    assert closed(s)
    time.sleep(0.2)
    log = open(tmp_path / "logd.log").read()
    assert "Produce (key 0) v2 is not supported" in log, log[-2000:]


@pytest.mark.parametrize("size", [-1, 2**31 - 1, 3])
def test_an_impossible_frame_size_closes_the_connection(broker, size):
    s = connect(broker)
    s.sendall(struct.pack(">i", size) + b"\x00" * 16)
    assert closed(s)
    # The listener still serves others.
    t = connect(broker)
    t.sendall(frame(18, 0, 1, b""))
    assert read_response(t)[0] == 1
    t.close()


def test_a_malformed_body_closes_the_connection(broker):
    s = connect(broker)
    # Metadata v4 claiming 2^31-1 topics in a 5-byte body.
    s.sendall(frame(3, 4, 1, struct.pack(">i", 2**31 - 1) + b"\x00"))
    assert closed(s)


def test_sigterm_during_a_long_poll_stops_logd_cleanly(tmp_path):
    server = KafkaLogd(tmp_path / "data").start()
    create_topic(server, "lp", 1)
    s = connect(server)
    s.sendall(frame(1, 4, 1, fetch_v4("lp", 0, 0, 30_000)))
    time.sleep(0.3)
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 10
    s.close()
