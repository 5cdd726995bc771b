"""The SSE subscribers and the publisher of the server benchmark: one program for logd and
for Nchan, so that both are measured with the same client costs.

Messages are JSON `{"t": <publish time, ns since the epoch>, "s": <sequence>}`; a subscriber
checks that it receives every sequence number exactly once and in order, and records
publish-to-receive latency from `t`.
"""
import asyncio
import json
import re
import time
import urllib.parse

SEQ_RE = re.compile(rb'"t":\s*(\d+),\s*"s":\s*(\d+)')


class Target:
    """How to publish to and subscribe at one server."""

    def __init__(self, kind, base_url):
        self.kind = kind
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        if kind == "logd":
            self.sub_path = "/v1/topics/bench/events?from=latest"
            self.pub_path = "/v1/topics/bench/records"
        else:  # nchan
            self.sub_path = "/sub"
            self.pub_path = "/pub"

    def publish_body(self, seq):
        message = b'{"t":%d,"s":%d}' % (time.time_ns(), seq)
        if self.kind == "logd":
            return b'{"records":[{"value":' + message + b'}]}'
        return message


async def open_stream(target, connect_timeout=30):
    """Opens one event stream; returns (reader, writer, seconds to the response head)."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port), connect_timeout)
    writer.write(b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n"
                 % (target.sub_path.encode(), target.host.encode(), target.port))
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), connect_timeout)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("stream refused: %r" % head[:200])
    return reader, writer, time.perf_counter() - started


class Subscriber:
    def __init__(self):
        self.received = 0
        self.expected_next = None
        self.errors = 0
        self.latencies_ns = []
        self.last_receive = 0.0

    async def run(self, reader, sample_every, stop):
        buffer = b""
        while not stop.is_set():
            try:
                chunk = await reader.read(1 << 16)
            except (ConnectionError, OSError):
                return
            if not chunk:
                return
            now_ns = time.time_ns()
            buffer += chunk
            cut = buffer.rfind(b"\n\n")
            if cut < 0:
                continue
            complete, buffer = buffer[:cut], buffer[cut + 2:]
            for t, s in SEQ_RE.findall(complete):
                seq = int(s)
                if self.expected_next is not None and seq != self.expected_next:
                    self.errors += 1
                self.expected_next = seq + 1
                self.received += 1
                if sample_every and seq % sample_every == 0:
                    self.latencies_ns.append(now_ns - int(t))
            self.last_receive = time.perf_counter()


async def subscribers_main(target_kind, url, count, sample_every, ready_path, stop_after_seconds, expect):
    """Opens `count` streams, signals readiness by writing `ready_path`, reads until every
    stream has `expect` messages (or the time is up), and returns a summary."""
    target = Target(target_kind, url)
    stop = asyncio.Event()
    streams = []
    opened = await asyncio.gather(*[open_stream(target) for _ in range(count)])
    subs = []
    tasks = []
    for reader, writer, _ in opened:
        sub = Subscriber()
        subs.append(sub)
        streams.append(writer)
        tasks.append(asyncio.create_task(sub.run(reader, sample_every, stop)))
    with open(ready_path, "w") as f:
        f.write("ready")
    deadline = time.perf_counter() + stop_after_seconds
    while time.perf_counter() < deadline:
        if expect and all(s.received >= expect for s in subs):
            break
        await asyncio.sleep(0.02)
    stop.set()
    for w in streams:
        w.close()
    for t in tasks:
        t.cancel()
    latencies = [x for s in subs for x in s.latencies_ns]
    return {
        "received": sum(s.received for s in subs),
        "errors": sum(s.errors for s in subs),
        "incomplete": sum(1 for s in subs if expect and s.received != expect),
        "last_receive": max((s.last_receive for s in subs), default=0.0),
        "latencies_ns": latencies,
    }


async def publish(target_kind, url, count, rate):
    """Publishes `count` messages over one keep-alive connection, paced at `rate` per second
    (as fast as possible when `rate` is 0). Returns (first publish time, last answer time)."""
    target = Target(target_kind, url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    start = time.perf_counter()
    for seq in range(count):
        if rate:
            due = start + seq / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        body = target.publish_body(seq)
        writer.write(b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % (target.pub_path.encode(), target.host.encode(), target.port, len(body)) + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not (head.startswith(b"HTTP/1.1 2")):
            raise RuntimeError("publish refused: %r" % head[:200])
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1)) if b"ontent-" in head.lower() else 0
        if length:
            await reader.readexactly(length)
    end = time.perf_counter()
    writer.close()
    return start, end


def run_subscribers(args):
    """Entry for a subscriber process (multiprocessing)."""
    kind, url, count, sample_every, ready_path, seconds, expect, out = args
    result = asyncio.run(subscribers_main(kind, url, count, sample_every, ready_path, seconds, expect))
    out.put(result)


async def storm_main(target_kind, url, count, concurrency):
    """Opens `count` streams, at most `concurrency` connecting at once; returns per-stream
    connect times and the total time; keeps them open until told to close (stdin)."""
    target = Target(target_kind, url)
    gate = asyncio.Semaphore(concurrency)
    writers = []
    times = []

    async def one():
        async with gate:
            reader, writer, seconds = await open_stream(target)
            writers.append((reader, writer))
            times.append(seconds)

    started = time.perf_counter()
    await asyncio.gather(*[one() for _ in range(count)])
    total = time.perf_counter() - started
    return writers, times, total
