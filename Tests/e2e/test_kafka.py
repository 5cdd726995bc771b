"""The Kafka listener against real clients: kcat 1.7.1 (librdkafka 2.0.2), confluent-kafka 2.16
(librdkafka 2.16) and kafka-python 3.0.12, and raw frames for what clients never send.

Every test starts its own logd with `--kafka-listen 127.0.0.1:0` (the port is read from its
`logd kafka listening on HOST:PORT` line). Docs/KAFKA.md describes what is tested here.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
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


def test_with_authentication_on_kafka_clients_authenticate_with_sasl_plain(tmp_path):
    """With --auth-token or a JWT key, the listener requires SASL/PLAIN whose password is a static
    token or a JWT, granting what it grants over HTTP; a wrong password is refused."""
    from conftest import call
    from test_jwt import ADMIN, SECRET, jwt
    secret_file = tmp_path / "jwt-secret"
    secret_file.write_text(SECRET + "\n")
    server = KafkaLogd(tmp_path / "data", ["--jwt-secret-file", str(secret_file), "--auth-token", ADMIN],
                       stderr_path=tmp_path / "logd.log").start()
    try:
        assert call(server.url, "PUT", "/v1/topics/orders", {"partitions": 1}, ADMIN)[0] == 201

        def sasl(password, *args, check=True, stdin=None):
            # A refused client gives up after the metadata timeout (-m): short, as nothing will change.
            return kcat(server, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
                        "-X", "sasl.username=e2e", "-X", "sasl.password=" + password, "-m", "5" if check else "2", *args,
                        check=check, stdin=stdin)
        sasl(ADMIN, "-P", "-t", "orders", stdin=b"a\nb\n")
        assert sasl(ADMIN, "-C", "-t", "orders", "-o", "beginning", "-e", "-q").stdout.split() == [b"a", b"b"]

        wrong = sasl("wrong", "-L", check=False)
        assert wrong.returncode != 0 and b"Authentication failed" in wrong.stderr, wrong.stderr
        plaintext = kcat(server, "-L", "-m", "2", check=False)
        assert plaintext.returncode != 0
        log = open(tmp_path / "logd.log").read()
        assert "SASL authentication failed" in log and "Metadata before SASL authentication" in log, log[-3000:]

        # A JWT that may read `orders` and use groups `g-*`: it reads, commits in g-1, and is
        # refused writes and other groups.
        reader = jwt({"read": ["orders"], "groups": ["g-*"]})
        assert sasl(reader, "-C", "-t", "orders", "-o", "beginning", "-e", "-q").stdout.split() == [b"a", b"b"]
        denied = sasl(reader, "-P", "-t", "orders", stdin=b"c\n", check=False)
        assert b"Topic authorization failed" in denied.stderr, denied.stderr
        assert sasl(reader, "-G", "g-1", "-X", "auto.offset.reset=earliest", "-e", "-q", "orders").stdout.split() == [b"a", b"b"]
        assert call(server.url, "GET", "/v1/groups/g-1/commits", token=ADMIN)[1] == \
            b'{"offsets":[{"topic":"orders","partition":0,"offset":2,"metadata":""}]}'
        other = sasl(reader, "-G", "other", "-X", "auto.offset.reset=earliest", "-e", "-q", "orders", check=False)
        assert other.returncode != 0 and b"may not use group other" in other.stderr, other.stderr
        # An expired JWT is refused like a wrong password.
        expired = sasl(jwt({"read": ["orders"]}, exp_in=-10), "-L", check=False)
        assert expired.returncode != 0 and b"Authentication failed" in expired.stderr, expired.stderr
    finally:
        assert server.stop() == 0


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


# Consumer groups --------------------------------------------------------------------------------

GROUP_CONSUMER = os.path.join(os.path.dirname(__file__), "kafka_group_consumer.py")
SESSION_TIMEOUT_MS = 3000


def http_json(server, path, body=None):
    req = urllib.request.Request(server.url + path, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        data = r.read()
        return json.loads(data) if data else None


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("not within %ss: %s" % (timeout, what))


class GroupMember:
    """One consumer process of a Kafka consumer group: `kcat -G`, or kafka_group_consumer.py with
    confluent-kafka or kafka-python; a 3 s session with 300 ms heartbeats. Its assignments and
    records are read from what it prints."""

    KCAT_ASSIGNED = re.compile(r"rebalanced \(memberid [^)]*\): (assigned|revoked): (.*)$")

    def __init__(self, server, client, group, topic, tmp_path, name):
        self.client, self.topic = client, topic
        self.out, self.err = tmp_path / (name + ".out"), tmp_path / (name + ".err")
        if client == "kcat":
            argv = ["kcat", "-b", server.kafka, "-G", group, "-X", "auto.offset.reset=earliest",
                    "-X", "session.timeout.ms=%d" % SESSION_TIMEOUT_MS, "-X", "heartbeat.interval.ms=300",
                    "-X", "auto.commit.interval.ms=300", "-u", "-f", "record %p %o\n", topic]
        else:
            argv = [sys.executable, GROUP_CONSUMER, client, server.kafka, group, topic]
        env = dict(os.environ, KAFKA_SESSION_TIMEOUT_MS=str(SESSION_TIMEOUT_MS), KAFKA_HEARTBEAT_MS="300")
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)

    def _lines(self, path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()

    def assignment(self):
        """The partitions of the member's last rebalance (None before its first)."""
        current = None
        if self.client == "kcat":
            for line in self._lines(self.err):
                m = self.KCAT_ASSIGNED.search(line)
                if m:
                    current = set() if m.group(1) == "revoked" else {int(p) for p in re.findall(r"\[(\d+)\]", m.group(2))}
        else:
            for line in self._lines(self.out):
                if line.startswith("assigned "):
                    parts = line.split(" ")
                    current = {int(p) for p in parts[2].split(",") if p} if len(parts) > 2 else set()
        return current

    def records(self):
        return {tuple(int(x) for x in line.split()[1:3]) for line in self._lines(self.out) if line.startswith("record ")}

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(20)

    def describe(self):
        return "%s: assignment %s\n%s\n%s" % (self.client, self.assignment(), "\n".join(self._lines(self.out)[-5:]),
                                              "\n".join(self._lines(self.err)[-10:]))


def produce_to_each_partition(server, topic, count, start):
    for partition in (0, 1):
        kcat(server, "-P", "-t", topic, "-p", str(partition),
             stdin=b"".join(b"%d-%d\n" % (partition, i) for i in range(start, start + count)))


@pytest.mark.parametrize("client", ["kcat", "confluent", "kafka-python"])
def test_a_group_splits_partitions_and_moves_them_on_sigterm_and_sigkill(broker, tmp_path, client):
    """Two members of one group on a 2-partition topic each end with one partition; SIGTERM of
    one (LeaveGroup) moves both to the other within 5 s; SIGKILL moves them after the session
    timeout; every produced record is consumed."""
    group, topic = "g-" + client, "gt"
    create_topic(broker, topic, 2)
    produce_to_each_partition(broker, topic, 50, 0)
    members = []
    try:
        a = GroupMember(broker, client, group, topic, tmp_path, "a")
        members.append(a)
        wait_for("a has both partitions\n" + a.describe(), lambda: a.assignment() == {0, 1}, 30)
        b = GroupMember(broker, client, group, topic, tmp_path, "b")
        members.append(b)

        def split(x, y):
            return x.assignment() is not None and y.assignment() is not None and len(x.assignment()) == 1 \
                and x.assignment() | y.assignment() == {0, 1}
        wait_for("one partition each\n%s\n%s" % (a.describe(), b.describe()), lambda: split(a, b), 30)
        # The HTTP API sees the same group.
        described = http_json(broker, "/v1/groups/" + group)
        assert described["state"] == "stable" and described["protocol_type"] == "consumer", described
        assert sorted(p["partition"] for m in described["members"] for p in m["assignment"]) == [0, 1], described
        produce_to_each_partition(broker, topic, 50, 50)

        started = time.monotonic()
        assert b.stop(signal.SIGTERM) == 0, b.describe()
        wait_for("a gets both after b's SIGTERM\n" + a.describe(), lambda: a.assignment() == {0, 1}, 5)
        assert time.monotonic() - started < 5

        c = GroupMember(broker, client, group, topic, tmp_path, "c")
        members.append(c)
        wait_for("one partition each\n%s\n%s" % (a.describe(), c.describe()), lambda: split(a, c), 30)
        produce_to_each_partition(broker, topic, 50, 100)
        started = time.monotonic()
        c.stop(signal.SIGKILL)
        wait_for("a gets both after c's SIGKILL\n" + a.describe(), lambda: a.assignment() == {0, 1}, SESSION_TIMEOUT_MS / 1000 + 10)
        elapsed = time.monotonic() - started
        assert elapsed > SESSION_TIMEOUT_MS / 1000 - 1, "moved after %.1f s, before the session timeout" % elapsed

        produce_to_each_partition(broker, topic, 50, 150)
        everything = {(p, o) for p in (0, 1) for o in range(200)}
        wait_for("every record consumed", lambda: set().union(*(m.records() for m in members)) >= everything, 30)
    finally:
        for m in members:
            m.stop(signal.SIGKILL)


def test_kcat_group_commits_and_resumes(broker):
    """kcat -G consumes everything and commits on exit: a rerun consumes nothing, and after 5
    more records a rerun consumes exactly those 5. The commits are the HTTP API's."""
    create_topic(broker, "t1", 1)
    kcat(broker, "-P", "-t", "t1", stdin=b"".join(b"%d\n" % i for i in range(1, 21)))

    def consume():
        return kcat(broker, "-G", "g3", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\n", "t1",
                    timeout=60).stdout.decode().split()
    assert consume() == [str(i) for i in range(1, 21)]
    assert consume() == []
    kcat(broker, "-P", "-t", "t1", stdin=b"".join(b"more %d\n" % i for i in range(5)))
    assert consume() == ["more", "0", "more", "1", "more", "2", "more", "3", "more", "4"]
    # librdkafka commits an empty metadata string, kept as sent.
    assert http_json(broker, "/v1/groups/g3/commits")["offsets"] == [{"topic": "t1", "partition": 0, "offset": 25, "metadata": ""}]


def consume_and_commit(client, bootstrap, group, count, metadata):
    """Consumes `count` records of t1 in `group` without auto-commit, commits the position with
    `metadata`, and answers the offsets of the records consumed."""
    offsets = []
    if client == "confluent":
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                      "auto.offset.reset": "earliest", "session.timeout.ms": SESSION_TIMEOUT_MS})
        try:
            c.subscribe(["t1"])
            while len(offsets) < count:
                m = c.poll(10)
                assert m is not None and not m.error(), m and m.error()
                offsets.append(m.offset())
            c.commit(offsets=[TopicPartition("t1", 0, offsets[-1] + 1, metadata=metadata)], asynchronous=False)
        finally:
            c.close()
    else:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.structs import OffsetAndMetadata
        c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                          auto_offset_reset="earliest", max_poll_records=count, session_timeout_ms=SESSION_TIMEOUT_MS,
                          heartbeat_interval_ms=300)
        try:
            c.subscribe(["t1"])
            deadline = time.monotonic() + 30
            while len(offsets) < count and time.monotonic() < deadline:
                for records in c.poll(timeout_ms=500, max_records=count - len(offsets)).values():
                    offsets += [m.offset for m in records]
            c.commit({TopicPartition("t1", 0): OffsetAndMetadata(offsets[-1] + 1, metadata, -1)})
        finally:
            c.close()
    return offsets


def committed_and_first(client, bootstrap, group):
    """A new consumer of `group`: what committed() answers for t1/0 and the offset it reads first."""
    if client == "confluent":
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                      "auto.offset.reset": "earliest", "session.timeout.ms": SESSION_TIMEOUT_MS})
        try:
            committed = c.committed([TopicPartition("t1", 0)], timeout=10)[0]
            c.subscribe(["t1"])
            m = c.poll(10)
            assert m is not None and not m.error(), m and m.error()
        finally:
            c.close()
        return committed.offset, committed.metadata, m.offset()
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest", session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=300)
    try:
        committed = c.committed(TopicPartition("t1", 0), metadata=True)
        c.subscribe(["t1"])
        first = None
        deadline = time.monotonic() + 30
        while first is None and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=500, max_records=1).values():
                first = records[0].offset
    finally:
        c.close()
    return committed.offset, committed.metadata, first


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_a_manual_commit_survives_a_restart_and_is_the_http_groups(tmp_path, client):
    server = KafkaLogd(tmp_path / "data").start()
    try:
        create_topic(server, "t1", 1)
        kcat(server, "-P", "-t", "t1", stdin=b"".join(b"%d\n" % i for i in range(30)))
        group = "gm-" + client
        assert consume_and_commit(client, server.kafka, group, 10, "from " + client) == list(range(10))
        assert server.stop() == 0
        server = KafkaLogd(tmp_path / "data").start()
        # Durable, and the HTTP API's group: the same commit, metadata included (confluent-kafka
        # 2.16 sends its metadata with the C string's terminating NUL; it is kept as sent).
        offsets = http_json(server, "/v1/groups/%s/commits" % group)["offsets"]
        assert [(o["topic"], o["partition"], o["offset"], o["metadata"].rstrip("\0")) for o in offsets] == [
            ("t1", 0, 10, "from " + client)]
        committed, metadata, first = committed_and_first(client, server.kafka, group)
        assert (committed, metadata.rstrip("\0"), first) == (10, "from " + client, 10)
        # A commit over HTTP moves the Kafka group.
        http_json(server, "/v1/groups/%s/commits" % group, {"offsets": [{"topic": "t1", "partition": 0, "offset": 15}]})
        assert committed_and_first(client, server.kafka, group)[::2] == (15, 15)
    finally:
        assert server.stop() == 0


def test_admin_clients_list_and_describe_groups(broker, tmp_path):
    """ListGroups and DescribeGroups through confluent-kafka's AdminClient and kafka-python's
    KafkaAdminClient: a classic group of two kcat members (state, protocol, client ids, the
    leader's assignment), a group that only commits, and an unknown group (Dead)."""
    from confluent_kafka.admin import AdminClient
    from kafka.admin import KafkaAdminClient
    create_topic(broker, "adm", 2)
    produce_to_each_partition(broker, "adm", 5, 0)
    members = [GroupMember(broker, "kcat", "g-admin", "adm", tmp_path, "m%d" % i) for i in range(2)]
    try:
        wait_for("both members assigned", lambda: all(m.assignment() for m in members), 20)
        http_json(broker, "/v1/groups/g-commits-only/commits", {"offsets": [{"topic": "adm", "partition": 0, "offset": 3}]})
        admin = AdminClient({"bootstrap.servers": broker.kafka})
        listed = admin.list_consumer_groups(request_timeout=10).result(timeout=20)
        groups = {g.group_id: g for g in listed.valid}
        assert {"g-admin", "g-commits-only"} <= set(groups), listed.valid
        assert not groups["g-admin"].is_simple_consumer_group and groups["g-commits-only"].is_simple_consumer_group

        described = admin.describe_consumer_groups(["g-admin", "g-commits-only", "g-unknown"], request_timeout=10)
        g = described["g-admin"].result(timeout=20)
        assert str(g.state).endswith("STABLE") and g.partition_assignor in ("range", "roundrobin", "cooperative-sticky")
        assert len(g.members) == 2 and all(m.client_id == "rdkafka" for m in g.members)
        assigned = sorted(tp.partition for m in g.members for tp in m.assignment.topic_partitions)
        assert assigned == [0, 1]
        assert str(described["g-commits-only"].result(timeout=20).state).endswith("EMPTY")
        assert str(described["g-unknown"].result(timeout=20).state).endswith("DEAD")

        kp = KafkaAdminClient(bootstrap_servers=broker.kafka)
        listed = kp.list_groups()
        described = kp.describe_groups(["g-admin"])
        kp.close()
        assert {"group_id": "g-admin", "protocol_type": "consumer"} in listed
        assert {"group_id": "g-commits-only", "protocol_type": ""} in listed
        d = described["g-admin"]
        assert d["group_state"] == "Stable" and d["protocol_type"] == "consumer" and d["error"] is None
        assert sorted(p for m in d["members"] for a in m["member_assignment"]["assigned_partitions"] for p in a["partitions"]) == [0, 1]
        assert all(m["member_metadata"]["topics"] == ["adm"] for m in d["members"])
    finally:
        for m in members:
            m.stop()
