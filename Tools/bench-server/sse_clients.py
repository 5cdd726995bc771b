"""The SSE subscribers and the publisher of the server benchmark: one program for logd and
for Nchan, so that both are measured with the same client costs.

Messages are JSON `{"t": <publish time, ns since the epoch>, "s": <sequence>}`; a subscriber
checks that it receives every sequence number exactly once and in order, and records
publish-to-receive latency from `t`.

Subscribers speak HTTP/1.1 over plain TCP, or (`protocol="h2"`) HTTP/2 over TLS with ALPN `h2`
through the `h2` package (hyper-h2, a complete HTTP/2 implementation): one TLS connection per
subscriber, as separate browsers would, or `streams_per_connection` event streams on each
connection, as one browser page with several `EventSource`s would. The publisher always speaks
HTTP/1.1, over TLS when the server's URL is `https`.
"""
import asyncio
import re
import resource
import ssl
import time
import urllib.parse

SEQ_RE = re.compile(rb'"t":\s*(\d+),\s*"s":\s*(\d+)')


class Target:
    """How to publish to and subscribe at one server."""

    def __init__(self, kind, base_url):
        self.kind = kind
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        self.tls = u.scheme == "https"
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


def tls_context(alpn):
    """A client TLS context offering only `alpn` (the benchmark's certificate is self-signed:
    not verified)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols([alpn])
    return context


async def connect(target, alpn="http/1.1", timeout=30):
    """A TCP connection to the target, over TLS offering `alpn` when its URL is `https`."""
    if target.tls:
        return await asyncio.wait_for(asyncio.open_connection(target.host, target.port, ssl=tls_context(alpn)), timeout)
    return await asyncio.wait_for(asyncio.open_connection(target.host, target.port), timeout)


async def open_stream(target, connect_timeout=30):
    """Opens one event stream over HTTP/1.1; returns (reader, writer, seconds to the response head)."""
    started = time.perf_counter()
    reader, writer = await connect(target, timeout=connect_timeout)
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

        self.buffer = b""
        self.ended = False  # the server ended or reset the stream (HTTP/2)

    def feed(self, chunk, now_ns, sample_every):
        """Takes bytes of the event stream received at `now_ns`; counts and checks the events
        completed by them."""
        buffer = self.buffer + chunk
        cut = buffer.rfind(b"\n\n")
        if cut < 0:
            self.buffer = buffer
            return
        complete, self.buffer = buffer[:cut], buffer[cut + 2:]
        for t, s in SEQ_RE.findall(complete):
            seq = int(s)
            if self.expected_next is not None and seq != self.expected_next:
                self.errors += 1
            self.expected_next = seq + 1
            self.received += 1
            if sample_every and seq % sample_every == 0:
                self.latencies_ns.append(now_ns - int(t))
        self.last_receive = time.perf_counter()

    async def run(self, reader, sample_every, stop):
        """Reads one HTTP/1.1 event stream until it ends or `stop` is set."""
        while not stop.is_set():
            try:
                chunk = await reader.read(1 << 16)
            except (ConnectionError, OSError):
                return
            if not chunk:
                return
            self.feed(chunk, time.time_ns(), sample_every)


class H2EventStreams:
    """One HTTP/2 connection over TLS (ALPN `h2`, through the `h2` package) carrying `count`
    event streams, one `Subscriber` each."""

    # Flow control: a window of 1 MiB per stream and 1 GiB for the connection, given back as
    # the data is consumed (as browsers do: Chromium's are 6 MiB and 15 MiB), so that the
    # client's window never paces the server.
    STREAM_WINDOW = 1 << 20
    CONNECTION_WINDOW = 1 << 30

    def __init__(self, target, count, sample_every):
        import h2.config
        import h2.connection
        import h2.settings
        self.target, self.sample_every = target, sample_every
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: self.STREAM_WINDOW,
            h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.count = count
        self.subscribers = {}  # stream id -> Subscriber
        self.heads = {}  # stream id -> future of the response status
        self.reader = self.writer = None
        self.task = None

    async def open(self, connect_timeout=30):
        """Connects, opens every stream and waits for every response head; returns the
        subscribers."""
        import h2.events  # noqa: F401 (loaded before the pump)
        self.reader, self.writer = await connect(self.target, alpn="h2", timeout=connect_timeout)
        alpn = self.writer.get_extra_info("ssl_object").selected_alpn_protocol()
        if alpn != "h2":
            raise RuntimeError("the server did not negotiate HTTP/2 (ALPN %r)" % alpn)
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(self.CONNECTION_WINDOW - 65535)
        loop = asyncio.get_running_loop()
        headers = [(b":method", b"GET"), (b":scheme", b"https"),
                   (b":authority", b"%s:%d" % (self.target.host.encode(), self.target.port)),
                   (b":path", self.target.sub_path.encode()), (b"accept", b"text/event-stream")]
        for _ in range(self.count):
            stream_id = self.conn.get_next_available_stream_id()
            self.conn.send_headers(stream_id, headers, end_stream=True)
            self.subscribers[stream_id] = Subscriber()
            self.heads[stream_id] = loop.create_future()
        self.writer.write(self.conn.data_to_send())
        self.task = asyncio.create_task(self.pump())
        statuses = await asyncio.wait_for(asyncio.gather(*self.heads.values()), connect_timeout)
        if any(status != b"200" for status in statuses):
            raise RuntimeError("stream refused over HTTP/2: statuses %r" % sorted(set(statuses)))
        return list(self.subscribers.values())

    async def pump(self):
        """Reads frames until the connection ends; hands each stream's data to its subscriber."""
        import h2.events
        try:
            while True:
                chunk = await self.reader.read(1 << 16)
                if not chunk:
                    break
                now_ns = time.time_ns()
                for event in self.conn.receive_data(chunk):
                    if isinstance(event, h2.events.DataReceived):
                        self.subscribers[event.stream_id].feed(event.data, now_ns, self.sample_every)
                        self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.ResponseReceived):
                        status = dict(event.headers).get(b":status")
                        if not self.heads[event.stream_id].done():
                            self.heads[event.stream_id].set_result(status)
                    elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                        self.subscribers[event.stream_id].ended = True
                        if not self.heads[event.stream_id].done():
                            self.heads[event.stream_id].set_result(b"reset")
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return
                out = self.conn.data_to_send()
                if out:
                    self.writer.write(out)
        except (ConnectionError, OSError):
            pass
        finally:
            for stream_id, head in self.heads.items():
                if not head.done():
                    head.set_result(b"closed")

    def close(self):
        if self.task:
            self.task.cancel()
        if self.writer:
            self.writer.close()


async def subscribers_main(target_kind, url, count, sample_every, ready_path, stop_after_seconds, expect,
                           protocol="http/1.1", streams_per_connection=1):
    """Opens `count` streams (HTTP/1.1, or HTTP/2 over TLS with `streams_per_connection`
    streams on each connection), signals readiness by writing `ready_path`, reads until every
    stream has `expect` messages (or the time is up), and returns a summary. The native client
    Tools/bench-server/h2-subscribers takes the same arguments and prints the same summary."""
    target = Target(target_kind, url)
    stop = asyncio.Event()
    streams = []
    subs = []
    tasks = []
    if protocol == "h2":
        sizes = [min(streams_per_connection, count - i) for i in range(0, count, streams_per_connection)]
        connections = [H2EventStreams(target, n, sample_every) for n in sizes]
        for opened in await asyncio.gather(*[c.open() for c in connections]):
            subs += opened
        streams += connections
    else:
        opened = await asyncio.gather(*[open_stream(target) for _ in range(count)])
        for reader, writer, _ in opened:
            sub = Subscriber()
            subs.append(sub)
            streams.append(writer)
            tasks.append(asyncio.create_task(sub.run(reader, sample_every, stop)))
    ready_usage = resource.getrusage(resource.RUSAGE_SELF)
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "received": sum(s.received for s in subs),
        "errors": sum(s.errors for s in subs),
        "incomplete": sum(1 for s in subs if expect and s.received != expect),
        "last_receive": max((s.last_receive for s in subs), default=0.0),
        "latencies_ns": latencies,
        # This process's user + system CPU seconds (connecting included), to compare clients' costs.
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "ready_cpu_seconds": ready_usage.ru_utime + ready_usage.ru_stime,
    }


async def publish(target_kind, url, count, rate):
    """Publishes `count` messages over one keep-alive HTTP/1.1 connection (over TLS when the
    URL is `https`), paced at `rate` per second (as fast as possible when `rate` is 0).
    Returns (first publish time, last answer time)."""
    target = Target(target_kind, url)
    reader, writer = await connect(target)
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
    kind, url, count, sample_every, ready_path, seconds, expect, protocol, streams_per_connection, out = args
    result = asyncio.run(subscribers_main(kind, url, count, sample_every, ready_path, seconds, expect,
                                          protocol, streams_per_connection))
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
