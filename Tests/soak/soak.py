"""Soak: logd under many Server-Sent Events clients for a long while (`make soak`).

    python3 Tests/soak/soak.py [--seconds 600] [--clients 2000] [--fetchers 20] [--rate 5]

Starts logd ($LOGD_BIN) on a fresh data directory with the cleaner running, then:
- `--clients` SSE clients on topic `soak` (2 partitions, fsync) from the start, over raw
  asyncio connections; a tenth of them hang up at random moments and come back with
  `Last-Event-ID`;
- `--fetchers` long-poll fetchers (`wait_ms`) following each partition;
- a steady producer: `--rate` records a second to `soak`, each carrying its publish time,
  plus churn for the cleaner (a small-segment topic with retention, a compacted topic).

Every client checks every event's cursor: each record advances exactly one partition by
exactly one offset (nothing missed, nothing repeated, also across a reconnect). At the end
every client must have received every acknowledged record. Reported: logd's resident memory
and open descriptors at the start, middle and end, and the p99 publish-to-receive latency
per minute (over a sample of events). Exits 1 on any miss, repeat or error."""
import argparse
import asyncio
import http.client
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import urllib.request
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from conftest import Logd, process_fds, process_rss_kib  # noqa: E402

TOPIC = "soak"
PARTITIONS = 2


def process_stats(pid):
    return process_rss_kib(pid), process_fds(pid)


def heap_stats(url):
    """logd's C heap from /metrics, in KiB: (in use, freed and held by the allocator)."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    values = {}
    for name in ("process_heap_in_use_bytes", "process_heap_free_held_bytes"):
        match = re.search(r"^%s (\d+)" % name, text, re.M)
        values[name] = int(match.group(1)) // 1024 if match else -1
    return values["process_heap_in_use_bytes"], values["process_heap_free_held_bytes"]


class Shared:
    def __init__(self, seconds):
        self.stopping = False      # everyone stops
        self.producing = True      # the producer stops first
        self.started = time.time()
        self.seconds = seconds
        self.errors = []
        self.latencies = {}   # minute -> [seconds]
        self.reconnects = 0

    def error(self, text):
        if len(self.errors) < 20:
            print("ERROR:", text, flush=True)
        self.errors.append(text)

    def latency(self, value):
        minute = int((time.time() - self.started) // 60)
        self.latencies.setdefault(minute, []).append(value)


class SSEClient:
    """One EventSource: cursor checking, optional random hang-ups with Last-Event-ID."""

    def __init__(self, n, host, port, shared, reconnecting):
        self.n = n
        self.host, self.port = host, port
        self.shared = shared
        self.reconnecting = reconnecting
        self.offsets = [-1] * PARTITIONS     # last offset received per partition
        self.cursor = None

    async def run(self):
        rng = random.Random(self.n)
        while not self.shared.stopping:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            head = "GET /v1/topics/%s/events?from=earliest HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\n" % TOPIC
            if self.cursor:
                head += "Last-Event-ID: %s\r\n" % self.cursor
            writer.write((head + "\r\n").encode())
            hang_up_at = time.time() + rng.uniform(2, 30) if self.reconnecting else None
            try:
                status = await reader.readuntil(b"\r\n\r\n")
                if b" 200 " not in status.split(b"\r\n")[0]:
                    self.shared.error("client %d: %r" % (self.n, status[:100]))
                    await asyncio.sleep(1)
                    continue
                buf = b""
                while not self.shared.stopping:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        break
                    buf += (await reader.readexactly(size + 2))[:-2]
                    while b"\n\n" in buf:
                        block, buf = buf.split(b"\n\n", 1)
                        self.event(block)
                    if hang_up_at and time.time() > hang_up_at:
                        self.shared.reconnects += 1
                        break
            except (OSError, asyncio.IncompleteReadError, ValueError):
                if not self.shared.stopping:
                    await asyncio.sleep(0.1)
            finally:
                writer.transport.abort()

    def event(self, block):
        event_id = data = None
        for line in block.split(b"\n"):
            if line.startswith(b"id:"):
                event_id = line[3:].strip().decode()
            elif line.startswith(b"data:"):
                data = line[5:].strip()
            elif line.startswith(b"event:") and line[6:].strip() in (b"gap", b"reset"):
                self.shared.error("client %d: notice %r" % (self.n, block[:200]))
        if event_id is None:
            return
        numbers = [int(x) for x in event_id.split(",")]
        if data is None:                       # the starting cursor of a connection
            if numbers != self.offsets:
                self.shared.error("client %d: resumed at %s, had %s" % (self.n, event_id, self.offsets))
                self.offsets = numbers
            self.cursor = event_id
            return
        moved = [p for p in range(PARTITIONS) if numbers[p] != self.offsets[p]]
        if len(moved) != 1 or numbers[moved[0]] != self.offsets[moved[0]] + 1:
            self.shared.error("client %d: cursor %s after %s (missed or repeated)" % (self.n, event_id, self.offsets))
        self.offsets = numbers
        self.cursor = event_id
        # A sample of latencies: a tenth of the events of each client.
        if (numbers[moved[0]] + self.n) % 10 == 0 if moved else False:
            i = data.find(b'"t":')
            if i >= 0:
                self.shared.latency(time.time() - float(data[i + 4:].split(b",")[0].rstrip(b"}")))


def fetcher(url, partition, shared, results, n):
    """Long-polls one partition from the start; every record exactly once, in order."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    offset = 0
    results[n] = (partition, offset)
    while not shared.stopping:
        try:
            conn.request("GET", "/v1/topics/%s/records?partition=%d&offset=%d&limit=1000&wait_ms=2000" % (TOPIC, partition, offset))
            answer = json.loads(conn.getresponse().read())
        except (OSError, http.client.HTTPException, ValueError) as e:
            shared.error("fetcher %d: %s" % (n, e))
            conn.close()
            time.sleep(0.5)
            continue
        for r in answer["records"]:
            if r["offset"] != offset:
                shared.error("fetcher %d: offset %d after %d" % (n, r["offset"], offset - 1))
            offset = r["offset"] + 1
        if "gap" in answer:
            shared.error("fetcher %d: gap %s" % (n, answer["gap"]))
        results[n] = (partition, offset)


def producer(url, shared, rate, acked):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def post(topic, body):
        conn.request("POST", "/v1/topics/%s/records" % topic, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            shared.error("produce to %s: %d %s" % (topic, response.status, data[:200]))
            return None
        return json.loads(data)

    n = 0
    next_at = time.time()
    while shared.producing:
        answer = post(TOPIC, {"records": [{"value": {"seq": n, "t": time.time()}, "partition": n % PARTITIONS}]})
        if answer:
            o = answer["offsets"][0]
            acked[o["partition"]] = max(acked[o["partition"]], o["offset"] + 1)
        # Work for the cleaner: segments to delete, keys to compact.
        post("churn", {"records": [{"value": "x" * 300}]})
        post("kv", {"records": [{"key": "k%d" % (n % 10), "value": n}]})
        n += 1
        next_at += 1.0 / rate
        time.sleep(max(0, next_at - time.time()))


async def soak(args):
    with tempfile.TemporaryDirectory() as tmp:
        server = Logd(os.path.join(tmp, "data"), ["--cleaner-interval-ms", "500"],
                      stderr_path=os.path.join(tmp, "logd.log")).start()
        pid = server.proc.pid
        u = urllib.parse.urlsplit(server.url)
        shared = Shared(args.seconds)
        failures = []
        try:
            def put(topic, settings):
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                conn.request("PUT", "/v1/topics/" + topic, body=json.dumps(settings), headers={"Content-Type": "application/json"})
                assert conn.getresponse().status == 201
            put(TOPIC, {"partitions": PARTITIONS, "durability": "fsync"})
            put("churn", {"segment_bytes": 4096, "retention_bytes": 16384, "durability": "none"})
            put("kv", {"segment_bytes": 4096, "cleanup_policy": "compact", "durability": "none"})

            clients = [SSEClient(i, u.hostname, u.port, shared, reconnecting=(i % 10 == 0)) for i in range(args.clients)]
            tasks = []
            for c in clients:
                tasks.append(asyncio.ensure_future(c.run()))
                if len(tasks) % 100 == 0:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(2)
            start_stats = process_stats(pid)
            start_heap = heap_stats(server.url)
            acked = [0] * PARTITIONS
            results = {}
            threads = [threading.Thread(target=producer, args=(server.url, shared, args.rate, acked), daemon=True)]
            threads += [threading.Thread(target=fetcher, args=(server.url, i % PARTITIONS, shared, results, i), daemon=True)
                        for i in range(args.fetchers)]
            for t in threads:
                t.start()
            began = time.time()
            middle_stats = None
            middle_heap = (0, 0)
            while time.time() - began < args.seconds:
                await asyncio.sleep(1)
                if middle_stats is None and time.time() - began >= args.seconds / 2:
                    middle_stats = process_stats(pid)
                    middle_heap = heap_stats(server.url)
            # Stop producing; let every client and fetcher catch up (bounded).
            shared.producing = False
            threads[0].join(30)

            def caught_up():
                return (all(c.offsets[p] >= acked[p] - 1 for c in clients for p in range(PARTITIONS))
                        and all(offset >= acked[p] for p, offset in results.values()))
            deadline = time.time() + 60
            while time.time() < deadline and not caught_up():
                await asyncio.sleep(0.5)
            end_stats = process_stats(pid)
            end_heap = heap_stats(server.url)
            shared.stopping = True
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            behind = [c.n for c in clients if any(c.offsets[p] < acked[p] - 1 for p in range(PARTITIONS))]
            if behind:
                failures.append("%d clients did not receive every acknowledged record (e.g. %s: %s, acked ends %s)"
                                % (len(behind), behind[0], clients[behind[0]].offsets, acked))
            ahead = [c.n for c in clients if any(c.offsets[p] > acked[p] - 1 for p in range(PARTITIONS))]
            if ahead:
                failures.append("%d clients received records past the acknowledged ends" % len(ahead))
            lagging = [n for n, (p, offset) in results.items() if offset != acked[p]]
            if lagging or len(results) != args.fetchers:
                failures.append("fetchers %s did not end at the acknowledged ends %s" % (lagging, acked))
            if server.proc.poll() is not None:
                failures.append("logd died")
        finally:
            shared.stopping = True
            status = server.stop()
            if status != 0:
                failures.append("logd exited %s" % status)
        total = sum(acked)
        print("soak: %d s, %d SSE clients (%d reconnecting, %d reconnects), %d long-poll fetchers, %d records acknowledged "
              "(rate %s/s), every client and fetcher checked every record: %s"
              % (args.seconds, args.clients, args.clients // 10, shared.reconnects, args.fetchers, total, args.rate,
                 "no miss, no repeat" if not shared.errors and not failures else "FAILED"))
        print("soak: logd RSS / descriptors: start %d KiB / %d, middle %d KiB / %d, end %d KiB / %d"
              % (start_stats + (middle_stats or (0, 0)) + end_stats))
        print("soak: logd C heap in use / freed and held by the allocator: start %d / %d KiB, middle %d / %d KiB, end %d / %d KiB"
              % (start_heap + middle_heap + end_heap))
        for minute in sorted(shared.latencies):
            values = sorted(shared.latencies[minute])
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            print("soak: minute %d: publish-to-receive p50 %.1f ms, p99 %.1f ms over %d sampled events"
                  % (minute + 1, values[len(values) // 2] * 1000, p99 * 1000, len(values)))
        rss_start, fds_start = start_stats
        rss_end, fds_end = end_stats
        if fds_end > fds_start + 100:
            failures.append("descriptors grew: %d -> %d" % (fds_start, fds_end))
        if middle_stats and rss_end > middle_stats[0] * 1.5 + 32 * 1024:
            failures.append("resident memory grew: middle %d KiB -> end %d KiB" % (middle_stats[0], rss_end))
        if start_heap[0] < 0:
            failures.append("/metrics has no process_heap_in_use_bytes")
        elif middle_stats and end_heap[0] > middle_heap[0] * 1.5 + 32 * 1024:
            failures.append("heap in use grew: middle %d KiB -> end %d KiB" % (middle_heap[0], end_heap[0]))
        for f in failures:
            print("FAILURE:", f)
        return 0 if not failures and not shared.errors else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("SOAK_CLIENTS", "2000")))
    parser.add_argument("--fetchers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=5)
    args = parser.parse_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.clients + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.clients + 1024), hard))
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
