"""Torture over HTTP: logd is killed with SIGKILL at random moments while a producer posts to
an `fsync` topic (retrying each request with its Idempotency-Key until it is answered) and SSE
consumers follow the topic, resuming by Last-Event-ID on each new server. Every acknowledged
record is received exactly once, in order, per partition; nothing is written twice; the data
directory verifies clean. HTTP_TORTURE_ROUNDS kills (5 here; `make torture` runs 100)."""
import json
import os
import random
import subprocess
import threading
import time

from conftest import Logd, call, call_json
from sse_client import EventSourceConnection

ROUNDS = int(os.environ.get("HTTP_TORTURE_ROUNDS", "5"))
PARTITIONS = 2
CONSUMERS = 2
TOPIC = "torture"


class Restartable:
    """One logd at a time on a data directory: `url` names the current one."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.server = Logd(data_dir).start()
        self.url = self.server.url
        self.kills = 0

    def kill_and_restart(self):
        self.server.kill9()
        self.kills += 1
        self.server = Logd(self.data_dir).start()
        self.url = self.server.url


class Producer(threading.Thread):
    """Posts batches of 1-4 records {"n": …}, each to partition n % 2; a request the server
    did not answer (killed) is sent again, same key and body, until it is answered."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.stop = threading.Event()
        self.acked = {}          # (partition, offset) -> n
        self.problems = []
        self.retries = 0

    def run(self):
        n = 0
        rng = random.Random(1)
        while not self.stop.is_set():
            k = rng.randint(1, 4)
            body = {"records": [{"value": {"n": n + i}, "partition": (n + i) % PARTITIONS} for i in range(k)]}
            while True:
                try:
                    status, answer = call_json(self.cluster.url, "POST", "/v1/topics/%s/records" % TOPIC, body,
                                               headers={"Idempotency-Key": "batch-%d" % n}, timeout=10)
                except OSError:
                    self.retries += 1
                    time.sleep(0.02)
                    continue
                if status != 200:
                    self.problems.append("n=%d: %s %r" % (n, status, answer))
                    time.sleep(0.05)
                    continue
                for i, o in enumerate(answer["offsets"]):
                    if o["partition"] != (n + i) % PARTITIONS:
                        self.problems.append("n=%d went to partition %d" % (n + i, o["partition"]))
                    self.acked[(o["partition"], o["offset"])] = n + i
                break
            n += k
        self.sent = n


class Consumer(threading.Thread):
    """An EventSource on the whole topic from the start; on any failure it reconnects to the
    current server with the last cursor it saw."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.stop = threading.Event()
        self.received = {p: [] for p in range(PARTITIONS)}   # partition -> [(offset, n)]
        self.problems = []
        self.reconnects = 0

    def run(self):
        cursor = None
        while not self.stop.is_set():
            try:
                conn = EventSourceConnection(self.cluster.url, "/v1/topics/%s/events?from=earliest" % TOPIC, cursor)
            except (OSError, AssertionError):
                time.sleep(0.02)
                continue
            self.reconnects += 1
            try:
                for event_id, data in conn.events():
                    if self.stop.is_set():
                        break
                    if event_id is None:
                        if data is not None:
                            self.problems.append("a notice: %s" % data)
                        continue
                    numbers = [int(x) for x in event_id.split(",")]
                    if data is None:         # the starting cursor
                        if cursor is not None and event_id != cursor:
                            self.problems.append("resumed at %s after %s" % (event_id, cursor))
                        cursor = event_id
                        continue
                    before = [int(x) for x in cursor.split(",")]
                    moved = [p for p in range(PARTITIONS) if numbers[p] != before[p]]
                    if len(moved) != 1 or numbers[moved[0]] != before[moved[0]] + 1:
                        self.problems.append("cursor %s after %s" % (event_id, cursor))
                    p = moved[0] if moved else 0
                    self.received[p].append((numbers[p], json.loads(data)["n"]))
                    cursor = event_id
            except OSError:
                pass
            finally:
                conn.cut()


def end_offsets(url):
    ends = []
    for p in range(PARTITIONS):
        status, answer = call_json(url, "GET", "/v1/topics/%s/records?partition=%d&offset=latest" % (TOPIC, p), timeout=10)
        assert status == 200, answer
        ends.append(answer["next_offset"])
    return ends


def test_sigkill_while_producing_and_streaming_loses_and_repeats_nothing(tmp_path):
    cluster = Restartable(tmp_path / "data")
    assert call(cluster.url, "PUT", "/v1/topics/" + TOPIC, {"partitions": PARTITIONS, "durability": "fsync"}, timeout=10)[0] == 201
    producer = Producer(cluster)
    consumers = [Consumer(cluster) for _ in range(CONSUMERS)]
    producer.start()
    for c in consumers:
        c.start()
    rng = random.Random()
    started = time.time()
    try:
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(0.2, 1.2))
            cluster.kill_and_restart()
        time.sleep(0.3)
        producer.stop.set()
        producer.join(60)
        assert not producer.is_alive()
        ends = end_offsets(cluster.url)
        deadline = time.time() + 60
        while time.time() < deadline and any(
                len(c.received[p]) < ends[p] for c in consumers for p in range(PARTITIONS)):
            time.sleep(0.1)
    finally:
        for c in consumers:
            c.stop.set()
        final = cluster.server
        assert final.stop() == 0

    assert not producer.problems, producer.problems[:10]
    # Every request was answered, so every record sent is acknowledged, once.
    assert sorted(producer.acked.values()) == list(range(producer.sent))
    for i, c in enumerate(consumers):
        assert not c.problems, (i, c.problems[:10])
        for p in range(PARTITIONS):
            offsets = [o for o, _ in c.received[p]]
            assert offsets == list(range(ends[p])), "consumer %d, partition %d: not every offset exactly once, in order" % (i, p)
            got = dict(c.received[p])
            for (ap, o), n in producer.acked.items():
                if ap == p:
                    assert got.get(o) == n, "consumer %d: acknowledged n=%d at %d/%d received as %r" % (i, n, p, o, got.get(o))
        # Nothing written twice: the log holds each record sent exactly once.
        ns = sorted(n for p in range(PARTITIONS) for _, n in c.received[p])
        assert ns == list(range(producer.sent)), "consumer %d: records written twice or lost" % i
    verify = subprocess.run([os.environ.get("LOG_DUMP_BIN", "log-dump"), str(tmp_path / "data"), "--verify", "--no-progress"],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout[-3000:]
    print("http torture: %d SIGKILLs in %.0f s, %d records acknowledged, %d producer retries, %d consumers "
          "reconnecting %s times, each received every record exactly once; lost: 0"
          % (cluster.kills, time.time() - started, len(producer.acked), producer.retries, CONSUMERS,
             "/".join(str(c.reconnects) for c in consumers)))
