"""make bench-kafka: the Kafka listener beside logd's own HTTP path, in one run (issue 13).

Starts a release logd on loopback with its Kafka listener and runs, with real clients:

  produce   confluent-kafka (librdkafka) producing 100-byte records (linger 5 ms, batches of
            about 1,000 records; `produce_batch` with 1,000 records per call, so that Python's
            per-call cost does not set the rate) through the listener from --producers
            processes, and kcat -P
            (librdkafka in C) from a file of such records, beside the HTTP produce path (wrk, 50
            connections, 100 and 1,000 records per request, the best of them): records/s and
            logd's CPU (user + system) per record.
  fetch     a topic of --fetch-mib MiB read from `earliest` by kcat and by a confluent-kafka
            consumer (values discarded), beside `cat` of the same segment files from the page
            cache: bytes/s, and logd's CPU share of the read.
  group     3 confluent-kafka consumers in one group over a 6-partition topic while a
            producer publishes --group-rate records/s for --group-seconds: records consumed,
            the consumers' delay behind the producer, and whether every record arrived.

Every load is bounded in count and time; logd is stopped by PID. --write appends the table to
Docs/BENCHMARKS.md with the machine and the command.
"""
import argparse
import glob
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KAFKA_RE = re.compile(r"^logd kafka listening on (\S+):(\d+)$")
HTTP_RE = re.compile(r"^logd listening on (\S+)$")
RECORD = b"x" * 100


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Logd:
    """A release logd with its Kafka listener, on a fresh data directory."""

    #: `--pin`: logd runs on CPU 0 and every client on CPU 1.
    pinned = False

    def __init__(self, binary, work, durability="none"):
        self.data = tempfile.mkdtemp(dir=work, prefix="logd-")
        self.proc = subprocess.Popen(
            (["taskset", "-c", "0"] if Logd.pinned else []) + [binary, "--data-dir", self.data, "--host", "127.0.0.1", "--port", "0", "--log-level", "error",
             "--kafka-listen", "127.0.0.1:0", "--default-durability", durability, "--max-body-bytes", str(64 << 20)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.kafka = None
        deadline = time.time() + 30
        while (self.url is None or self.kafka is None) and time.time() < deadline:
            line = self.proc.stdout.readline().strip()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("logd exited %s" % self.proc.returncode)
            if m := KAFKA_RE.match(line):
                self.kafka = "%s:%s" % (m.group(1), m.group(2))
            elif m := HTTP_RE.match(line):
                self.url = m.group(1)
        if self.url is None or self.kafka is None:
            raise RuntimeError("logd did not report its listeners")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def create_topic(self, name, partitions, durability="none"):
        body = json.dumps({"partitions": partitions, "durability": durability}).encode()
        urllib.request.urlopen(urllib.request.Request(self.url + "/v1/topics/" + name, method="PUT", data=body,
                                                      headers={"Content-Type": "application/json"}), timeout=60).read()

    def end_offsets(self, name):
        with urllib.request.urlopen(self.url + "/v1/topics/" + name, timeout=30) as r:
            return sum(p["end_offset"] for p in json.load(r)["partitions"])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def kafka_produce(bootstrap, topic, count, partitions=1, rate=0):
    """Produces `count` 100-byte records with confluent-kafka; returns seconds. Paced at `rate`
    records/s when given (in steps of 10 ms)."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.num.messages": 1000,
                         "batch.size": 1000 * 180, "acks": 1, "enable.idempotence": False,
                         "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1 << 20,
                         "compression.type": "none"})
    failures = []

    def delivered(err, _msg):
        if err is not None:
            failures.append(err)

    started = time.perf_counter()
    if not rate and partitions == 1:
        # As fast as possible: `produce_batch`, 1,000 records per call (librdkafka still forms
        # its own batches by linger and size); a record the queue refused is offered again.
        chunk = [{"value": RECORD} for _ in range(1000)]
        sent = 0
        while sent < count:
            batch = chunk if count - sent >= len(chunk) else chunk[: count - sent]
            accepted = producer.produce_batch(topic, batch, partition=0)
            if accepted < len(batch):
                for message in batch:
                    message.pop("_error", None)
                producer.poll(0.01)
            sent += accepted
            producer.poll(0)
        if producer.flush(120) != 0:
            raise RuntimeError("produce failed: %d records undelivered" % len(producer))
        return time.perf_counter() - started
    for n in range(count):
        if rate and n % max(1, rate // 100) == 0:
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        while True:
            try:
                producer.produce(topic, RECORD if not rate else b"%.6f|" % time.time() + RECORD[:88],
                                 partition=n % partitions, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.01)
        if n % 10000 == 0:
            producer.poll(0)
    if producer.flush(120) != 0 or failures:
        raise RuntimeError("produce failed: %s undelivered, errors %s" % (len(producer), failures[:3]))
    return time.perf_counter() - started


def produce_process(bootstrap, topic, count, out):
    out.put(kafka_produce(bootstrap, topic, count))


def parallel_produce(bootstrap, topic, count, processes):
    """`count` records from `processes` producer processes at once; returns the wall time."""
    if processes == 1:
        return kafka_produce(bootstrap, topic, count)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    started = time.perf_counter()
    procs = [ctx.Process(target=produce_process, args=(bootstrap, topic, share, out)) for share in shares]
    for p in procs:
        p.start()
    for _ in procs:
        out.get(timeout=600)
    for p in procs:
        p.join(30)
        if p.exitcode != 0:
            raise RuntimeError("a producer process failed")
    return time.perf_counter() - started


WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


def http_produce(url, topic, records_per_request, seconds):
    """wrk, 2 threads, 50 connections, `records_per_request` 100-byte values per request."""
    values = ",".join('{"value":"%s"}' % ("x" * 98) for _ in range(records_per_request))
    script = tempfile.mktemp(suffix=".lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % ('{"records":[' + values + "]}"))
    out = subprocess.run(["wrk", "-t2", "-c50", "-d%ds" % seconds, "--timeout", "10s", "-s", script,
                          url + "/v1/topics/%s/records" % topic], capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(script)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise RuntimeError("wrk: %s refused requests" % non2xx.group(1))
    return requests * records_per_request


def scenario_produce(binary, work, count, seconds, producers):
    rows = []
    server = Logd(binary, work)
    try:
        server.create_topic("kp", 1)
        before = cpu_seconds(server.proc.pid)
        elapsed = parallel_produce(server.kafka, "kp", count, producers)
        cpu = cpu_seconds(server.proc.pid) - before
        stored = server.end_offsets("kp")
        if stored != count:
            raise RuntimeError("the Kafka produce stored %d of %d records" % (stored, count))
        kafka = {"producers": producers, "records_per_s": count / elapsed, "cpu_us_per_record": cpu / count * 1e6}
        # kcat (librdkafka in C, no Python per record) from a file of 100-byte lines.
        server.create_topic("kk", 1)
        lines = os.path.join(work, "lines")
        with open(lines, "wb") as f:
            f.write((RECORD + b"\n") * count)
        before = cpu_seconds(server.proc.pid)
        started = time.perf_counter()
        with open(lines, "rb") as f:
            subprocess.run(["kcat", "-b", server.kafka, "-P", "-t", "kk", "-p", "0", "-X", "linger.ms=5",
                            "-X", "batch.num.messages=1000", "-X", "queue.buffering.max.messages=1000000"],
                           stdin=f, check=True, timeout=600)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(server.proc.pid) - before
        os.unlink(lines)
        stored = server.end_offsets("kk")
        if stored != count:
            raise RuntimeError("kcat stored %d of %d records" % (stored, count))
        kcat = {"records_per_s": count / elapsed, "cpu_us_per_record": cpu / count * 1e6}
        best = None
        for per_request in (100, 1000):
            topic = "hp%d" % per_request
            server.create_topic(topic, 1)
            before = cpu_seconds(server.proc.pid)
            started = time.perf_counter()
            records = http_produce(server.url, topic, per_request, seconds)
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.proc.pid) - before
            stored = server.end_offsets(topic)
            result = {"per_request": per_request, "records_per_s": stored / elapsed,
                      "cpu_us_per_record": cpu / max(1, stored) * 1e6}
            print("  HTTP, %d records per request: %s" % (per_request, result), flush=True)
            if best is None or result["records_per_s"] > best["records_per_s"]:
                best = result
        print("  Kafka listener (confluent-kafka): %s" % kafka, flush=True)
        print("  Kafka listener (kcat -P): %s" % kcat, flush=True)
        http = "HTTP best (wrk, %d records/request)" % best["per_request"]
        rows.append(("produce 100-byte records, %d confluent-kafka producer processes" % producers, "records/s", http,
                     best["records_per_s"], kafka["records_per_s"], True))
        rows.append(("", "logd CPU µs per record", http, best["cpu_us_per_record"], kafka["cpu_us_per_record"], False))
        rows.append(("produce 100-byte records, kcat -P (batches of 1,000, linger 5 ms)", "records/s", http,
                     best["records_per_s"], kcat["records_per_s"], True))
        rows.append(("", "logd CPU µs per record", http, best["cpu_us_per_record"], kcat["cpu_us_per_record"], False))
    finally:
        server.stop()
    return rows


def consume_kcat(bootstrap, topic):
    started = time.perf_counter()
    p = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                        "-f", "%S\n", "-X", "fetch.message.max.bytes=4194304"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600)
    elapsed = time.perf_counter() - started
    return p.stdout.count(b"\n"), elapsed


def consume_confluent(bootstrap, topic, expected):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-fetch", "enable.auto.commit": False,
                         "fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 8388608})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = 0
    started = time.perf_counter()
    deadline = started + 600
    while got < expected and time.perf_counter() < deadline:
        for message in consumer.consume(10000, 1.0):
            if message.error() is None:
                got += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return got, elapsed


def scenario_fetch(binary, work, mib):
    rows = []
    server = Logd(binary, work)
    try:
        server.create_topic("kf", 1)
        count = mib * (1 << 20) // len(RECORD)
        kafka_produce(server.kafka, "kf", count)
        files = sorted(glob.glob(os.path.join(server.data, "**", "*.log"), recursive=True))
        files = [f for f in files if "/kf" in f]
        stored = sum(os.path.getsize(f) for f in files)
        subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL, check=True)  # into the page cache
        started = time.perf_counter()
        subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL, check=True)
        cat_rate = stored / (time.perf_counter() - started)
        print("  cat of %d segment bytes: %.0f MB/s" % (stored, cat_rate / 1e6), flush=True)
        for name, consume in (("kcat", lambda: consume_kcat(server.kafka, "kf")),
                              ("confluent-kafka", lambda: consume_confluent(server.kafka, "kf", count))):
            before = cpu_seconds(server.proc.pid)
            got, elapsed = consume()
            cpu = cpu_seconds(server.proc.pid) - before
            if got != count:
                raise RuntimeError("%s read %d of %d records" % (name, got, count))
            rate = stored / elapsed
            print("  %s: %d records in %.2f s, %.0f MB/s, logd CPU %.2f s (%.0f %% of one core)"
                  % (name, got, elapsed, rate / 1e6, cpu, 100 * cpu / elapsed), flush=True)
            rows.append(("fetch %d MiB from earliest, %s" % (mib, name), "MB/s (segment bytes)", "cat", cat_rate / 1e6, rate / 1e6, True))
            rows.append(("", "logd CPU, % of one core", "—", float("nan"), 100 * cpu / elapsed, False))
    finally:
        server.stop()
    return rows


def group_member(bootstrap, topic, expected, out, stop_after):
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-group", "enable.auto.commit": True,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 10000,
                         "partition.assignment.strategy": "range"})
    consumer.subscribe([topic])
    got, delays, seen = 0, [], set()
    deadline = time.time() + stop_after
    last = time.time()
    while time.time() < deadline:
        batch = consumer.consume(500, 0.05)
        now = time.time()
        for message in batch:
            if message.error() is not None:
                continue
            got += 1
            seen.add((message.partition(), message.offset()))
            if got % 100 == 0:
                delays.append(now - float(message.value().split(b"|", 1)[0]))
        if batch:
            last = now
        if expected.value and now - last > 3:  # the producer is done and nothing came for 3 s
            break
    consumer.close()
    out.put({"got": got, "seen": sorted(seen), "delays": delays})


def scenario_group(binary, work, rate, seconds):
    rows = []
    server = Logd(binary, work)
    try:
        server.create_topic("kg", 6)
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        expected = ctx.Value("q", 0)
        members = [ctx.Process(target=group_member, args=(server.kafka, "kg", expected, out, seconds + 90)) for _ in range(3)]
        for m in members:
            m.start()
        time.sleep(8)  # the group forms (JoinGroup, SyncGroup) before the producer starts
        count = rate * seconds
        elapsed = kafka_produce(server.kafka, "kg", count, partitions=6, rate=rate)
        expected.value = count
        results = [out.get(timeout=180) for _ in members]
        for m in members:
            m.join(30)
        seen = set()
        for r in results:
            seen.update(map(tuple, r["seen"]))
        delays = sorted(d for r in results for d in r["delays"])
        got = sum(r["got"] for r in results)
        shares = [r["got"] for r in results]
        print("  group: produced %d at %.0f/s; consumed %d (distinct %d), per member %s; delay p50 %.1f ms, p99 %.1f ms"
              % (count, count / elapsed, got, len(seen), shares, 1000 * delays[len(delays) // 2],
                 1000 * delays[int(len(delays) * 0.99)]), flush=True)
        rows.append(("3 consumers, one group, 6 partitions, %d records/s produced" % rate, "records/s produced", "asked",
                     rate, count / elapsed, True))
        rows.append(("", "distinct records consumed / produced", "—", float("nan"), len(seen) / count, True))
        rows.append(("", "produce→consume delay p99 ms", "—", float("nan"), 1000 * delays[int(len(delays) * 0.99)], False))
    finally:
        server.stop()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logd", default=os.path.join(ROOT, ".build", "release", "logd"))
    parser.add_argument("--only", default="produce,fetch,group")
    parser.add_argument("--produce-records", type=int, default=2_000_000)
    parser.add_argument("--producers", type=int, default=2, help="confluent-kafka producer processes")
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--fetch-mib", type=int, default=1024)
    parser.add_argument("--group-rate", type=int, default=100_000)
    parser.add_argument("--group-seconds", type=int, default=10)
    parser.add_argument("--pin", action="store_true",
                        help="logd on CPU 0, the clients (wrk, kcat, confluent-kafka) on CPU 1: neither takes the other's CPU")
    parser.add_argument("--quick", action="store_true", help="small loads (a smoke test of the harness)")
    parser.add_argument("--write", action="store_true", help="append the table to Docs/BENCHMARKS.md")
    args = parser.parse_args()
    if args.quick:
        args.produce_records, args.http_seconds, args.fetch_mib, args.group_rate, args.group_seconds = 100_000, 2, 16, 10_000, 3
    only = set(args.only.split(","))
    if args.pin:
        Logd.pinned = True
        os.sched_setaffinity(0, {1})  # inherited by every client process this script starts
    work = tempfile.mkdtemp(prefix="bench-kafka-")
    rows = []
    try:
        if "produce" in only:
            print("produce", flush=True)
            rows += scenario_produce(args.logd, work, args.produce_records, args.http_seconds, args.producers)
        if "fetch" in only:
            print("fetch", flush=True)
            rows += scenario_fetch(args.logd, work, args.fetch_mib)
        if "group" in only:
            print("group", flush=True)
            rows += scenario_group(args.logd, work, args.group_rate, args.group_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = ["| work | figure | baseline | baseline | Kafka listener | ratio |", "|---|---|---|---|---|---|"]
    for scenario, figure, base, bv, kv, higher in rows:
        ratio = (kv / bv if higher else bv / kv) if bv == bv and kv == kv and bv and kv else float("nan")
        table.append("| %s | %s | %s | %s | %.4g | %s |" % (scenario, figure, base, "—" if bv != bv else "%.4g" % bv, kv,
                                                            ("%.2f×" % ratio) if ratio == ratio else "—"))
    print("\n".join(table))
    if args.write:
        with open(os.path.join(ROOT, "Docs", "BENCHMARKS.md"), "a") as f:
            f.write("\n### make bench-kafka, %s\n\n%s, %d cores; librdkafka %s (confluent-kafka), kcat. Command: "
                    "`make bench-kafka BENCH_KAFKA_ARGS=\"%s\"`. Ratios > 1 favour the Kafka listener (for CPU, "
                    "the ratio is baseline / listener).\n\n%s\n"
                    % (time.strftime("%Y-%m-%d"), platform.platform(), os.cpu_count(), librdkafka_version(),
                       " ".join(sys.argv[1:]), "\n".join(table)))


def librdkafka_version():
    try:
        import confluent_kafka
        return confluent_kafka.libversion()[0]
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    main()
