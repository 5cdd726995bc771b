#!/usr/bin/env python3
"""Captures what real Kafka clients send, as golden bytes for KafkaProtocolTests.

A tiny broker on a loopback port, written here from the protocol description alone (it shares no
code with the Swift codecs it checks), answers just enough for the clients to go on: ApiVersions
(with the v3+ fallback), Metadata, Produce (it keeps the batches, re-stamped), Fetch, ListOffsets,
InitProducerId, FindCoordinator, OffsetCommit and OffsetFetch. JoinGroup is recorded and left
unanswered. Each client is one scenario; the first request of each API and version in a scenario
is written to `<scenario>/<Api>-v<version>-request.bin` (the whole frame: size prefix, header,
body), with the answer the client accepted as `...-response.bin`.

    make kafka-golden        # or: python3 Tests/KafkaProtocolTests/Golden/capture.py [SCENARIO...]

Needs kcat (Debian, librdkafka 2.0.2), confluent-kafka (librdkafka 2.16) and kafka-python with
lz4 (make deps-kafka-clients deps-pip). Python 3 standard library otherwise.
"""
import asyncio
import os
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_ID = 1
TOPIC = "t1"

API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
             10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
             18: "ApiVersions", 22: "InitProducerId"}
# What this broker advertises: issue 13's table (ApiVersionsTable.standard in Swift).
ADVERTISED = [(0, 3, 8), (1, 4, 11), (2, 1, 5), (3, 1, 8), (8, 2, 7), (9, 1, 5), (10, 0, 2), (11, 0, 5),
              (12, 0, 3), (13, 0, 3), (14, 0, 3), (18, 0, 2), (22, 0, 1)]


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError("truncated")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def nstr(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def nbytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, element):
        n = self.i32()
        return None if n < 0 else [element() for _ in range(n)]


class Writer:
    def __init__(self):
        self.b = bytearray()

    def i8(self, v): self.b += struct.pack(">b", v); return self
    def i16(self, v): self.b += struct.pack(">h", v); return self
    def i32(self, v): self.b += struct.pack(">i", v); return self
    def i64(self, v): self.b += struct.pack(">q", v); return self

    def nstr(self, s):
        if s is None:
            return self.i16(-1)
        e = s.encode()
        self.i16(len(e)); self.b += e
        return self

    def nbytes(self, b):
        if b is None:
            return self.i32(-1)
        self.i32(len(b)); self.b += b
        return self


class Broker:
    def __init__(self):
        self.batches = []          # re-stamped record batches of t1/0, in order
        self.end = 0               # next offset
        self.port = None
        self.scenario = "unnamed"
        # librdkafka 2.0.2 compresses with gzip, snappy or lz4 only when the broker's Produce
        # versions include 0 (fixed in 2.11, #5130); scenarios named "*-produce0" advertise 0-8.
        self.produce_min = 3
        self.seen = set()
        self.lock = threading.Lock()

    # The answers -----------------------------------------------------------------------------
    def api_versions(self, v):
        w = Writer().i16(0).i32(len(ADVERTISED))
        for k, lo, hi in ADVERTISED:
            w.i16(k).i16(self.produce_min if k == 0 else lo).i16(hi)
        if v >= 1:
            w.i32(0)
        return w

    def metadata(self, v, r):
        topics = r.array(r.nstr)
        w = Writer()
        if v >= 3:
            w.i32(0)
        w.i32(1).i32(NODE_ID).nstr("127.0.0.1").i32(self.port).nstr(None)
        if v >= 2:
            w.nstr("capture-cluster")
        w.i32(NODE_ID)
        names = [TOPIC] if topics is None else topics
        w.i32(len(names))
        for name in names:
            known = name == TOPIC
            w.i16(0 if known else 3).nstr(name).i8(0)
            if known:
                w.i32(1).i16(0).i32(0).i32(NODE_ID)
                if v >= 7:
                    w.i32(-1)
                w.i32(1).i32(NODE_ID).i32(1).i32(NODE_ID)
                if v >= 5:
                    w.i32(0)
            else:
                w.i32(0)
            if v >= 8:
                w.i32(-2147483648)
        if v >= 8:
            w.i32(-2147483648)
        return w

    def produce(self, v, r):
        r.nstr()
        acks = r.i16()
        r.i32()
        topics = r.array(lambda: (r.nstr(), r.array(lambda: (r.i32(), r.nbytes()))))
        w = Writer().i32(len(topics))
        for name, parts in topics:
            w.nstr(name).i32(len(parts))
            for index, records in parts:
                codec = struct.unpack(">h", records[21:23])[0] & 7
                error, base = 0, -1
                if codec in (1, 2):
                    error = 76
                else:
                    count = struct.unpack(">i", records[57:61])[0]
                    base = self.end
                    stamped = bytearray(records)
                    stamped[0:8] = struct.pack(">q", base)
                    stamped[12:16] = struct.pack(">i", -1)
                    self.batches.append((base, base + count, bytes(stamped)))
                    self.end += count
                w.i32(index).i16(error).i64(base).i64(-1)
                if v >= 5:
                    w.i64(0)
                if v >= 8:
                    w.i32(0).nstr(None)
        w.i32(0)
        return None if acks == 0 else w

    def fetch(self, v, r):
        r.i32(); max_wait = r.i32(); r.i32(); r.i32(); r.i8()
        if v >= 7:
            r.i32(); r.i32()
        def partition():
            index = r.i32()
            if v >= 9:
                r.i32()
            offset = r.i64()
            if v >= 5:
                r.i64()
            r.i32()
            return index, offset
        topics = r.array(lambda: (r.nstr(), r.array(partition)))
        w = Writer().i32(0)
        if v >= 7:
            w.i16(0).i32(0)
        w.i32(len(topics))
        has_data = False
        for name, parts in topics:
            w.nstr(name).i32(len(parts))
            for index, offset in parts:
                data = b"".join(b for (first, end, b) in self.batches if end > offset)
                has_data = has_data or bool(data)
                error = 1 if offset > self.end else 0
                w.i32(index).i16(error).i64(self.end).i64(self.end)
                if v >= 5:
                    w.i64(0)
                w.i32(-1)
                if v >= 11:
                    w.i32(-1)
                w.nbytes(data)
        return w, (0 if has_data else min(max_wait, 300) / 1000)

    def list_offsets(self, v, r):
        r.i32()
        if v >= 2:
            r.i8()
        def partition():
            index = r.i32()
            if v >= 4:
                r.i32()
            return index, r.i64()
        topics = r.array(lambda: (r.nstr(), r.array(partition)))
        w = Writer()
        if v >= 2:
            w.i32(0)
        w.i32(len(topics))
        for name, parts in topics:
            w.nstr(name).i32(len(parts))
            for index, ts in parts:
                w.i32(index).i16(0).i64(-1).i64(0 if ts == -2 else self.end)
                if v >= 4:
                    w.i32(-1)
        return w

    def init_producer_id(self, v, r):
        return Writer().i32(0).i16(0).i64(4242).i16(0)

    def find_coordinator(self, v, r):
        w = Writer()
        if v >= 1:
            w.i32(0)
        w.i16(0)
        if v >= 1:
            w.nstr(None)
        return w.i32(NODE_ID).nstr("127.0.0.1").i32(self.port)

    def offset_commit(self, v, r):
        r.nstr(); r.i32(); r.nstr()
        if v <= 4:
            r.i64()
        if v >= 7:
            r.nstr()
        def partition():
            index = r.i32(); r.i64()
            if v >= 6:
                r.i32()
            r.nstr()
            return index
        topics = r.array(lambda: (r.nstr(), r.array(partition)))
        w = Writer()
        if v >= 3:
            w.i32(0)
        w.i32(len(topics))
        for name, parts in topics:
            w.nstr(name).i32(len(parts))
            for index in parts:
                w.i32(index).i16(0)
        return w

    def offset_fetch(self, v, r):
        r.nstr()
        topics = r.array(lambda: (r.nstr(), r.array(r.i32)))
        w = Writer()
        if v >= 3:
            w.i32(0)
        topics = topics or []
        w.i32(len(topics))
        for name, parts in topics:
            w.nstr(name).i32(len(parts))
            for index in parts:
                w.i32(index).i64(3)
                if v >= 5:
                    w.i32(-1)
                w.nstr("capture").i16(0)
        if v >= 2:
            w.i16(0)
        return w

    # The connection loop ---------------------------------------------------------------------
    async def serve(self, reader, writer):
        try:
            while True:
                size = struct.unpack(">i", await reader.readexactly(4))[0]
                frame = await reader.readexactly(size)
                r = Reader(frame)
                key, v, corr = r.i16(), r.i16(), r.i32()
                r.nstr()
                delay = 0
                answer = None
                if key == 18 and v > 2:
                    # ApiVersions above what we advertise: header v0, v0 body, error 35, only {18,0,2}.
                    answer = Writer().i16(35).i32(1).i16(18).i16(0).i16(2)
                elif key == 18:
                    answer = self.api_versions(v)
                elif key == 3:
                    answer = self.metadata(v, r)
                elif key == 0:
                    answer = self.produce(v, r)
                elif key == 1:
                    answer, delay = self.fetch(v, r)
                elif key == 2:
                    answer = self.list_offsets(v, r)
                elif key == 22:
                    answer = self.init_producer_id(v, r)
                elif key == 10:
                    answer = self.find_coordinator(v, r)
                elif key == 8:
                    answer = self.offset_commit(v, r)
                elif key == 9:
                    answer = self.offset_fetch(v, r)
                response = None
                if answer is not None:
                    body = struct.pack(">i", corr) + bytes(answer.b)
                    response = struct.pack(">i", len(body)) + body
                self.record(key, v, struct.pack(">i", size) + frame, response)
                if delay:
                    await asyncio.sleep(delay)
                if response is not None:
                    writer.write(response)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def record(self, key, v, request, response):
        """Keeps the first three requests of each API and version that differ in more than the
        correlation id: `<Api>-v<N>-request.bin`, then `...-request-2.bin`, `...-request-3.bin`."""
        name = "%s-v%d" % (API_NAMES.get(key, "Api%d" % key), v)
        body = request[4:8] + request[12:]
        with self.lock:
            kept = [b for (s, n, b) in self.seen if (s, n) == (self.scenario, name)]
            if body in kept or len(kept) >= 3:
                return
            self.seen.add((self.scenario, name, body))
            suffix = "" if not kept else "-%d" % (len(kept) + 1)
        directory = os.path.join(HERE, self.scenario)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name + "-request%s.bin" % suffix), "wb") as f:
            f.write(request)
        if response is not None:
            with open(os.path.join(directory, name + "-response%s.bin" % suffix), "wb") as f:
                f.write(response)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, stdin=None, timeout=30, ok_codes=(0,)):
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, shell=isinstance(cmd, str))
    if p.returncode not in ok_codes:
        raise SystemExit("%s exited %d: %s" % (cmd, p.returncode, p.stderr.decode()[-2000:]))
    return p


def python(code, timeout=60):
    return run([sys.executable, "-c", textwrap.dedent(code)], timeout=timeout)


# Compressible lines: librdkafka sends a batch uncompressed when compressing does not make it smaller.
LINES = b"".join(b"line %03d %s\n" % (i, b"abcdefgh" * 5) for i in range(50))
KEYED = b"".join(b"k%d:value %03d %s\n" % (i % 3, i, b"abcdefgh" * 5) for i in range(50))


# Prints each delivery report's error (None when stored).
CONFLUENT_PRODUCE = """
    from confluent_kafka import Producer
    p = Producer({'bootstrap.servers': '%s', 'compression.type': '%s', 'linger.ms': 5})
    for i in range(50):
        p.produce('%s', value=b'line %%03d ' %% i + b'abcdefgh' * 5, on_delivery=lambda e, m: print(e))
    assert p.flush(10) == 0
    """


def scenarios(b):
    bs = "127.0.0.1:%d" % b.port
    kcat = ["kcat", "-b", bs]
    return [
        ("kcat-metadata", lambda: run(kcat + ["-L", "-J"])),
        ("kcat-produce", lambda: run(kcat + ["-P", "-t", TOPIC], stdin=b"1\n2\n3\n4\n5\n")),
        ("kcat-produce-lz4", lambda: run(kcat + ["-P", "-t", TOPIC, "-z", "lz4", "-K:", "-H", "h=1"], stdin=KEYED)),
        ("kcat-produce-lz4-produce0", lambda: run(kcat + ["-P", "-t", TOPIC, "-z", "lz4", "-K:", "-H", "h=1"], stdin=KEYED)),
        ("kcat-produce-zstd", lambda: run(kcat + ["-P", "-t", TOPIC, "-z", "zstd"], stdin=LINES)),
        ("kcat-produce-gzip-produce0", lambda: run(kcat + ["-P", "-t", TOPIC, "-z", "gzip"], stdin=LINES, ok_codes=(0, 1))),
        ("confluent-produce-lz4", lambda: python(CONFLUENT_PRODUCE % (bs, "lz4", TOPIC))),
        ("confluent-produce-gzip", lambda: python(CONFLUENT_PRODUCE % (bs, "gzip", TOPIC))),
        ("kcat-consume", lambda: run(kcat + ["-C", "-t", TOPIC, "-o", "beginning", "-e", "-q"])),
        ("kcat-consume-tail", lambda: run(kcat + ["-C", "-t", TOPIC, "-o", "-2", "-e", "-q"])),
        ("kcat-group", lambda: run("timeout 4 " + " ".join(kcat + ["-G", "g1", TOPIC]), ok_codes=(124,))),
        ("confluent-produce", lambda: python("""
            from confluent_kafka import Producer
            p = Producer({'bootstrap.servers': '%s', 'enable.idempotence': True, 'linger.ms': 5})
            for i in range(3):
                p.produce('%s', key=b'key-%%d' %% i, value=b'value-%%d' %% i, headers=[('h', b'1')])
            assert p.flush(10) == 0
            """ % (bs, TOPIC))),
        ("confluent-consume", lambda: python("""
            from confluent_kafka import Consumer, TopicPartition
            c = Consumer({'bootstrap.servers': '%s', 'group.id': 'g2', 'enable.auto.commit': False})
            c.assign([TopicPartition('%s', 0, 0)])
            got = 0
            while got < 3:
                m = c.poll(5)
                assert m is not None and not m.error(), m and m.error()
                got += 1
            c.commit(message=m, asynchronous=False)
            print(c.committed([TopicPartition('%s', 0)], timeout=10))
            c.close()
            """ % (bs, TOPIC, TOPIC))),
        ("kafka-python-produce", lambda: python("""
            from kafka import KafkaProducer
            p = KafkaProducer(bootstrap_servers='%s', compression_type='lz4', linger_ms=100)
            for i in range(3):
                p.send('%s', key=b'kp-%%d' %% i, value=b'kafka-python %%d' %% i, headers=[('h', b'2')])
            p.flush(10)
            p.close()
            """ % (bs, TOPIC))),
        ("kafka-python-consume", lambda: python("""
            from kafka import KafkaConsumer, TopicPartition
            c = KafkaConsumer(bootstrap_servers='%s', enable_auto_commit=False)
            c.assign([TopicPartition('%s', 0)])
            c.seek_to_beginning()
            got = []
            while len(got) < 3:
                for records in c.poll(timeout_ms=5000).values():
                    got.extend(records)
            c.close()
            """ % (bs, TOPIC))),
    ]


def main(selected):
    broker = Broker()
    broker.port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def start():
        await asyncio.start_server(broker.serve, "127.0.0.1", broker.port)
        ready.set()

    threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True).start()
    ready.wait(10)
    for name, action in scenarios(broker):
        if selected and name not in selected:
            continue
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
        broker.scenario = name
        broker.produce_min = 0 if name.endswith("-produce0") else 3
        result = action()
        print("%-26s %s" % (name, ", ".join(sorted(f[:-4] for f in os.listdir(os.path.join(HERE, name)) if "-request" in f))))
        if "gzip" in name:
            said = (result.stderr.decode() + result.stdout.decode()).strip().splitlines()
            print("    exited %d: %s" % (result.returncode, sorted(set(said))[:3]))


if __name__ == "__main__":
    main(sys.argv[1:])
