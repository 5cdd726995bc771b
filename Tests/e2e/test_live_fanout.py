"""The live fan-out (Docs/adr/0003-live-fanout.md): caught-up plain SSE streams of a topic are
written to by one task per topic. What must hold whatever the mode: every record exactly once,
in order per partition, with ids that resume; a slow reader is handed back to read on its
own; streams join while records keep coming; reads run inline when their bytes are in the page
cache and on the store's I/O threads when not, losing nothing either way."""
import http.client
import json
import os
import re
import resource
import socket
import struct
import threading
import time
import urllib.request

from conftest import Logd, connect, produce
from h2_client import SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_UPDATE, H2Connection
from sse_client import EventSourceConnection


def make_topic(url, topic, partitions):
    req = urllib.request.Request("%s/v1/topics/%s" % (url, topic), method="PUT",
                                 data=json.dumps({"partitions": partitions, "durability": "none"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status in (200, 201)


def gauge(url, name):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^%s(?:\{[^}]*kind=\"sse\"[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def wait_for(predicate, seconds=20, what="condition"):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def collect(conn, count, out, key=None):
    """Reads `count` record events from `conn` into out[key] as (id, data)."""
    got = []
    for event_id, data in conn.events():
        if data is None:
            continue
        got.append((event_id, data))
        if len(got) == count:
            break
    out[key] = got


def check_exactly_once_in_order(got, expected_values):
    values = [json.loads(d)["v"] for _, d in got]
    assert sorted(values) == sorted(expected_values), "missing or repeated records"
    by_key = {}
    for v in values:
        key, seq = v.split(":")
        by_key.setdefault(key, []).append(int(seq))
    for key, seqs in by_key.items():
        assert seqs == sorted(seqs), "records of key %s out of order" % key


def test_caught_up_streams_share_the_live_fanout_and_get_every_record_once(tmp_path):
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "fan", 3)
        conns = [EventSourceConnection(server.url, "/v1/topics/fan/events?from=earliest") for _ in range(30)]
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 30, what="30 streams in the live fan-out")
        out = {}
        threads = [threading.Thread(target=collect, args=(c, 300, out, i)) for i, c in enumerate(conns)]
        for t in threads:
            t.start()
        expected = []
        for batch in range(30):
            records = [{"key": "k%d" % (i % 7), "value": {"v": "k%d:%d" % (i % 7, batch * 10 + i)}} for i in range(10)]
            expected += [r["value"]["v"] for r in records]
            produce(server.url, "fan", records)
        for t in threads:
            t.join(30)
        assert len(out) == 30
        last_ids = set()
        for got in out.values():
            check_exactly_once_in_order(got, expected)
            last_ids.add(got[-1][0])
        # Every stream ends at the same cursor: the position after all 300 records.
        assert len(last_ids) == 1
        # Resuming from that cursor delivers nothing old.
        produce(server.url, "fan", [{"key": "k0", "value": {"v": "k0:999"}}])
        resumed = EventSourceConnection(server.url, "/v1/topics/fan/events", last_event_id=last_ids.pop())
        first = next((d for _, d in resumed.events() if d is not None))
        assert json.loads(first)["v"] == "k0:999"
        for c in conns + [resumed]:
            c.cut()
    finally:
        assert server.stop() == 0


def test_a_slow_reader_is_handed_back_and_loses_nothing(tmp_path):
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "slow", 1)
        fast = [EventSourceConnection(server.url, "/v1/topics/slow/events?from=earliest") for _ in range(3)]
        # A client with a tiny receive buffer that reads nothing until the end.
        sock = connect(server.url, rcvbuf=4096)
        sock.sendall(b"GET /v1/topics/slow/events?from=earliest HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 4, what="4 streams in the live fan-out")
        out = {}
        # 12 MB: more than the kernel's socket buffers on loopback absorb.
        threads = [threading.Thread(target=collect, args=(c, 6000, out, i)) for i, c in enumerate(fast)]
        for t in threads:
            t.start()
        payload = "x" * 2000
        expected = []
        for batch in range(120):
            records = [{"key": "k", "value": {"v": "k:%d" % (batch * 50 + i), "pad": payload}} for i in range(50)]
            expected += [r["value"]["v"] for r in records]
            produce(server.url, "slow", records)
        for t in threads:
            t.join(60)
        for got in out.values():
            check_exactly_once_in_order(got, expected)
        # The slow stream left the hub (it reads on its own now), and is still open.
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 3, what="the slow stream handed back")
        assert gauge(server.url, "eventlog_open_streams") == 4
        # It reads now: everything, once, in order.
        slow = EventSourceConnection.__new__(EventSourceConnection)
        slow.sock, slow.buf, slow.chunk_left, slow.text = sock, b"", 0, b""
        sock.settimeout(30)
        while b"\r\n\r\n" not in slow.buf:
            slow.buf += sock.recv(65536)
        _, slow.buf = slow.buf.split(b"\r\n\r\n", 1)
        slow_out = {}
        collect(slow, 6000, slow_out, 0)
        check_exactly_once_in_order(slow_out[0], expected)
        for c in fast + [slow]:
            c.cut()
    finally:
        assert server.stop() == 0


def test_streams_join_while_records_keep_coming(tmp_path):
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "busy", 2)
        total = 1500
        expected = ["k%d:%d" % (i % 3, i) for i in range(total)]
        done = threading.Event()

        def publish():
            for start in range(0, total, 5):
                produce(server.url, "busy", [{"key": "k%d" % (i % 3), "value": {"v": "k%d:%d" % (i % 3, i)}}
                                             for i in range(start, start + 5)])
            done.set()

        publisher = threading.Thread(target=publish)
        publisher.start()
        out = {}
        threads = []
        conns = []
        for i in range(12):
            # Staggered: each starts from earliest, replays, catches up and joins mid-flight.
            time.sleep(0.05)
            c = EventSourceConnection(server.url, "/v1/topics/busy/events?from=earliest")
            conns.append(c)
            t = threading.Thread(target=collect, args=(c, total, out, i))
            t.start()
            threads.append(t)
        publisher.join(60)
        assert done.is_set()
        for t in threads:
            t.join(60)
        assert len(out) == 12
        for got in out.values():
            check_exactly_once_in_order(got, expected)
        for c in conns:
            c.cut()
    finally:
        assert server.stop() == 0


def test_streams_idling_with_no_task_give_back_their_slots_and_end_cleanly_at_shutdown(tmp_path):
    """Over HTTP/1.1 a stream idling in the hub has no task (Docs/adr/0005-http1-connection.md):
    its end (the client closing, the server stopping) is the hub's hand-back, resumed in a new
    task. A slot not given back would refuse the second wave; a stream not resumed at shutdown
    would end without its last chunk."""
    server = Logd(tmp_path / "data", ["--max-streams", "5"]).start()
    try:
        make_topic(server.url, "idle", 1)
        for wave in range(2):
            conns = [EventSourceConnection(server.url, "/v1/topics/idle/events") for _ in range(5)]
            wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 5,
                     what="wave %d: 5 streams in the live fan-out" % wave)
            assert gauge(server.url, "eventlog_open_streams") == 5
            for c in conns:
                c.cut()
            wait_for(lambda: gauge(server.url, "eventlog_open_streams") == 0, what="wave %d: every slot given back" % wave)
        socks = []
        for _ in range(5):
            sock = connect(server.url)
            sock.sendall(b"GET /v1/topics/idle/events HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(sock)
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 5, what="5 streams in the live fan-out")
        produce(server.url, "idle", [{"value": {"v": 1}}])
        received = []
        for sock in socks:
            sock.settimeout(10)
            got = b""
            while b'"v":1' not in got:
                data = sock.recv(65536)
                assert data, "the stream ended before its record"
                got += data
            received.append(got)
        assert server.stop() == 0
        for sock, got in zip(socks, received):
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                got += data
            # The response ended as a chunked body ends: the stream was resumed and finished.
            assert got.endswith(b"0\r\n\r\n"), got[-80:]
            sock.close()
    finally:
        if server.proc.poll() is None:
            server.kill9()


def evict_from_page_cache(directory):
    """Drops every file under `directory` from the page cache: `fsync`, then
    `POSIX_FADV_DONTNEED` (which drops clean pages only)."""
    for root, _, files in os.walk(directory):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def test_evicted_records_are_replayed_exactly_once_and_live_ones_read_inline(tmp_path):
    """Which thread reads the evicted records is not asserted here: a read from the page cache
    only (`preadv2` with `RWF_NOWAIT`) of bytes not there starts the kernel's readahead, and
    when that completes before the kernel looks again the read succeeds inline after all. On
    this machine's VM disk that happened in 5 of 5 fresh reads in a row in one run, and in 1
    of 11 runs of the first read. StreamReadCacheTests checks the fallback exactly, with the
    kernel's answer injected; here the bytes must be right whichever way they were read."""
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "cold", 2)
        expected = []

        def publish(first_batch, batches):
            for batch in range(first_batch, first_batch + batches):
                records = [{"key": "k%d" % (i % 3), "value": {"v": "k%d:%d" % (i % 3, batch * 10 + i)}} for i in range(10)]
                expected.extend(r["value"]["v"] for r in records)
                produce(server.url, "cold", records)

        publish(0, 20)
        # The stored records are no longer in memory: reading them inline would wait for the disk.
        evict_from_page_cache(tmp_path / "data" / "topics" / "cold")
        conns = [EventSourceConnection(server.url, "/v1/topics/cold/events?from=earliest") for _ in range(5)]
        out = {}
        threads = [threading.Thread(target=collect, args=(c, 400, out, i)) for i, c in enumerate(conns)]
        for t in threads:
            t.start()
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 5, what="5 streams caught up and live")
        replayed = gauge(server.url, "eventlog_stream_reads_on_io_threads")
        # Live records were appended a moment ago: the live fan-out reads them inline.
        for batch in range(20, 40):
            publish(batch, 1)
            time.sleep(0.01)
        for t in threads:
            t.join(30)
        assert len(out) == 5
        for got in out.values():
            check_exactly_once_in_order(got, expected)
        live = gauge(server.url, "eventlog_stream_reads_on_io_threads") - replayed
        assert live < 5, "%d of the live fan-out's reads (20 appends) went to the I/O threads" % live
        for c in conns:
            c.cut()
    finally:
        assert server.stop() == 0


def sse_values(body):
    """The `v` of every whole record event in an SSE body received so far."""
    whole = body[:body.rfind(b"\n\n") + 1].decode()
    return [json.loads(line[5:])["v"] for line in whole.split("\n") if line.startswith("data:")]


def test_http2_streams_share_the_live_fanout_and_one_out_of_window_is_handed_back(tmp_path):
    """HTTP/2 streams (h2c here) join the hub as HTTP/1.1 connections do and get every record
    once, in order; a stream whose client grants no flow-control window is handed back when its
    stream channel stops being writable (it reads on its own, waiting on its writes), and gets
    everything once it opens its window; its connection's other stream stays in the hub."""
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "h2fan", 1)
        fast = H2Connection(server.url)
        fast_streams = [fast.request("GET", "/v1/topics/h2fan/events?from=earliest", [("accept", "text/event-stream")])
                        for _ in range(4)]
        # 1 KiB of window per stream, never given back: the server can send it little.
        stalled = H2Connection(server.url, settings={SETTINGS_INITIAL_WINDOW_SIZE: 1024}, update_windows=False)
        stuck = stalled.request("GET", "/v1/topics/h2fan/events?from=earliest", [("accept", "text/event-stream")])
        for stream in fast_streams:
            fast.body_contains(stream, "id: ")
        stalled.body_contains(stuck, "id: ")
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 5, what="5 HTTP/2 streams in the live fan-out")

        total, pad = 400, "x" * 200  # ~100 KB per stream: far over the stalled stream's window
        expected = ["k:%d" % i for i in range(total)]

        def read_fast():
            fast.wait_for(lambda f: all(len(sse_values(fast.bodies[s])) >= total for s in fast_streams), seconds=60)

        reader = threading.Thread(target=read_fast)
        reader.start()
        for start in range(0, total, 20):
            produce(server.url, "h2fan", [{"key": "k", "value": {"v": "k:%d" % i, "pad": pad}} for i in range(start, start + 20)])
        reader.join(90)
        for stream in fast_streams:
            assert sse_values(fast.bodies[stream]) == expected
        # The stalled stream left the hub and is still open; the others are still in it.
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 4, what="the stalled stream handed back")
        assert stuck not in stalled.resets and stuck not in stalled.ended
        # It opens its window: everything, once, in order.
        stalled.update_windows = True
        stalled.send_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 24))
        stalled.send_frame(WINDOW_UPDATE, 0, stuck, struct.pack(">I", 1 << 24))
        stalled.wait_for(lambda f: len(sse_values(stalled.bodies[stuck])) >= total, seconds=60)
        assert sse_values(stalled.bodies[stuck]) == expected
        fast.close()
        stalled.close()
    finally:
        assert server.stop() == 0


def chunked_body(raw):
    """The body of an HTTP/1.1 chunked answer, and the bytes after its last chunk."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower(), head
    body = b""
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest.startswith(b"\r\n"), rest[:40]
            return body, rest[2:]
        body, rest = body + rest[:size], rest[size + 2:]
    return body, b""


STREAMS = 600


def test_a_stop_while_a_step_is_being_written_ends_every_stream_after_its_last_event(tmp_path):
    """The server stops while the hub writes a step to many streams, one event loop turn at a
    time: every stream is handed back only after (or instead of) its write of that step, so
    each answer ends (`0` chunk) after the last event written to it, with nothing after the
    end, and what each stream got is every record from its first, once, in order."""
    server = Logd(tmp_path / "data").start()
    socks = []
    try:
        make_topic(server.url, "stopping", 1)
        for _ in range(STREAMS):
            sock = connect(server.url)
            sock.sendall(b"GET /v1/topics/stopping/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            socks.append(sock)
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == STREAMS, what="the streams in the live fan-out")
        received = {i: b"" for i in range(len(socks))}

        def read_all():
            import selectors
            selector = selectors.DefaultSelector()
            for i, sock in enumerate(socks):
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, i)
            open_count, deadline = len(socks), time.time() + 60
            while open_count and time.time() < deadline:
                for key, _ in selector.select(1):
                    try:
                        chunk = key.fileobj.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except ConnectionError:
                        chunk = b""
                    if chunk:
                        received[key.data] += chunk
                    else:
                        selector.unregister(key.fileobj)
                        open_count -= 1

        reader = threading.Thread(target=read_all)
        reader.start()
        stop_publishing = threading.Event()

        def publish():
            # One keep-alive connection, records as fast as it is answered: the hub is always
            # writing a step.
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            n = 0
            while not stop_publishing.is_set():
                try:
                    conn.request("POST", "/v1/topics/stopping/records", headers={"Content-Type": "application/json"},
                                 body=json.dumps({"records": [{"value": {"v": "k:%d" % n}}]}))
                    conn.getresponse().read()
                except (OSError, http.client.HTTPException):
                    return
                n += 1

        publisher = threading.Thread(target=publish)
        publisher.start()
        time.sleep(1.0)
        assert server.stop() == 0
        stop_publishing.set()
        publisher.join(30)
        reader.join(90)
        events = 0
        for i, raw in received.items():
            body, after = chunked_body(raw)
            assert after == b"", "stream %d: %r after the end of its answer" % (i, after[:80])
            values = [int(v.split(":")[1]) for v in sse_values(body + b"\n")]
            assert values == list(range(values[0], values[0] + len(values))) if values else True, "stream %d" % i
            events += len(values)
        assert events > 0
    finally:
        for sock in socks:
            sock.close()


def said_so_far(conn):
    """What `conn` has been sent so far, in order: "keepalive" for each keepalive comment and each
    record's value; reads what the socket holds without waiting."""
    conn.sock.setblocking(False)
    text = b""
    while True:
        text += conn._dechunk()
        try:
            chunk = conn.sock.recv(65536)
        except BlockingIOError:
            break
        assert chunk, "the stream ended"
        conn.buf += chunk
    said = []
    for line in text.decode().split("\n"):
        if line == ": keepalive":
            said.append("keepalive")
        elif line.startswith("data:"):
            said.append(json.loads(line[5:])["v"])
    return said


def test_keepalives_reach_every_live_stream_in_order_with_events(tmp_path):
    # 300 streams over logd's event loops: more members per loop than one keepalive turn
    # (FanoutHub.keepaliveMembersPerTurn), so each keepalive is written in several turns.
    server = Logd(tmp_path / "data", ["--keepalive-seconds", "1"]).start()
    conns = []
    try:
        make_topic(server.url, "quiet", 1)
        conns = [EventSourceConnection(server.url, "/v1/topics/quiet/events") for _ in range(300)]
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 300, what="300 streams in the live fan-out")
        time.sleep(1.6)
        produce(server.url, "quiet", [{"value": {"v": 1}}])
        time.sleep(1.6)
        produce(server.url, "quiet", [{"value": {"v": 2}}])
        time.sleep(1.3)
        for c in conns:
            # Everything was written a while ago.
            said = said_so_far(c)
            assert [s for s in said if s != "keepalive"] == [1, 2], said
            first, second = said.index(1), said.index(2)
            # A keepalive before the first record, one between the records and one after them.
            assert "keepalive" in said[:first] and "keepalive" in said[first:second] and "keepalive" in said[second:], said
    finally:
        for c in conns:
            c.cut()
        assert server.stop() == 0


def test_a_client_that_goes_away_from_an_idle_stream_frees_it_at_once(tmp_path):
    """An idle stream in the live fan-out has no task and nothing to write until its next
    keepalive (15 s): a client that closes its connection (a FIN, as a closed browser tab sends)
    or resets it must free the stream, its slot and its connection now, not at that write."""
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "gone", 1)
        for how in ("close", "shutdown", "reset"):
            conns = [EventSourceConnection(server.url, "/v1/topics/gone/events?from=latest") for _ in range(3)]
            wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 3, what="3 idle streams in the fan-out")
            assert gauge(server.url, "eventlog_open_streams") == 3
            leaving = conns[0].sock
            if how == "shutdown":
                leaving.shutdown(socket.SHUT_WR)  # the client's FIN, its socket still open
            elif how == "reset":
                leaving.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if how != "shutdown":
                leaving.close()
            started = time.time()
            wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 2, seconds=5,
                     what="the stream of the client that went away (%s) left the fan-out" % how)
            wait_for(lambda: gauge(server.url, "eventlog_open_streams") == 2, seconds=5, what="its slot given back (%s)" % how)
            assert time.time() - started < 5
            if how == "shutdown":
                # The server closed its side too: the client reads the end.
                leaving.settimeout(5)
                while leaving.recv(65536):
                    pass
                leaving.close()
            # The others stay live and get what comes next.
            produce(server.url, "gone", [{"value": {"v": how}}])
            for c in conns[1:]:
                got = {}
                collect(c, 1, got)
                assert json.loads(got[None][0][1]) == {"v": how}
                c.cut()
            wait_for(lambda: gauge(server.url, "eventlog_open_streams") == 0, seconds=20, what="every stream closed (%s)" % how)
    finally:
        assert server.stop() == 0


def test_a_client_that_closed_its_side_during_the_replay_gets_it_all_then_the_end(tmp_path):
    """A client whose FIN arrives while its stream still replays stored records gets them all
    (the stream writes while the socket takes them); once the stream is caught up and would idle
    in the live fan-out, the connection closes instead of holding the stream until a keepalive.
    The client's small receive buffer and the 8 MB of records keep the replay going (its writes
    waiting) until after the FIN."""
    server = Logd(tmp_path / "data").start()
    try:
        make_topic(server.url, "halfway", 1)
        value = "x" * 700
        for batch in range(40):
            produce(server.url, "halfway", [{"value": {"v": "%d" % (batch * 300 + i), "pad": value}} for i in range(300)])
        conn = EventSourceConnection(server.url, "/v1/topics/halfway/events?from=earliest", receive_buffer=4096)
        time.sleep(0.5)
        assert gauge(server.url, "eventlog_live_fanout_streams") == 0, "still replaying"
        conn.sock.shutdown(socket.SHUT_WR)
        conn.sock.settimeout(5)
        started = time.time()
        values = [json.loads(data)["v"] for _, data in conn.events() if data is not None]
        assert values == ["%d" % i for i in range(12000)]
        assert time.time() - started < 10, "the connection ended when the stream caught up"
        wait_for(lambda: gauge(server.url, "eventlog_open_streams") == 0, seconds=5, what="the slot given back")
        conn.sock.close()
    finally:
        assert server.stop() == 0


def test_streams_that_join_or_leave_an_idle_hub_change_whom_its_next_steps_reach(tmp_path):
    # A loop keeps its members' roster between steps (an idle hub's keepalive rounds reuse it) and
    # makes it again when one joins or leaves: streams that join a hub that has already written
    # keepalives get its next keepalive and record, and the streams that stay get them once.
    server = Logd(tmp_path / "data", ["--keepalive-seconds", "1"]).start()
    first, later = [], []
    try:
        make_topic(server.url, "idle", 1)
        first = [EventSourceConnection(server.url, "/v1/topics/idle/events") for _ in range(20)]
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 20, what="20 streams in the live fan-out")
        time.sleep(2.3)  # two keepalive rounds to the first 20
        for c in first:
            assert said_so_far(c).count("keepalive") >= 1
        later = [EventSourceConnection(server.url, "/v1/topics/idle/events") for _ in range(20)]
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 40, what="40 streams in the live fan-out")
        time.sleep(1.3)  # a keepalive round since they joined, with nobody leaving
        for c in later:
            assert said_so_far(c).count("keepalive") >= 1, "a stream that joined got no keepalive"
        for c in first[:10]:
            c.cut()
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == 30, what="30 streams in the live fan-out")
        time.sleep(1.3)
        produce(server.url, "idle", [{"value": {"v": 1}}])
        time.sleep(1.3)
        for c in later + first[10:]:
            said = said_so_far(c)
            assert [s for s in said if s != "keepalive"] == [1], said
            assert "keepalive" in said[:said.index(1)] and "keepalive" in said[said.index(1):], said
    finally:
        for c in first[10:] + later:
            c.cut()
        assert server.stop() == 0


def test_idle_streams_hear_a_keepalive_every_interval_however_many_there_are(tmp_path):
    """The contract asks for a keepalive at least every interval. The hub's next round is due an
    interval after the last round started (not after its last write, which with 2,000 members
    added the round's duration, 30-60 ms here, to every gap), so the gaps average the interval."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    streams = 2000
    server = Logd(tmp_path / "data", ["--keepalive-seconds", "1", "--max-streams", str(streams)]).start()
    conns = []
    try:
        make_topic(server.url, "beat", 1)
        conns = [EventSourceConnection(server.url, "/v1/topics/beat/events") for _ in range(streams)]
        wait_for(lambda: gauge(server.url, "eventlog_live_fanout_streams") == streams, what="every stream in the live fan-out")
        watched = conns[0].sock
        watched.settimeout(5)
        heard = []
        while len(heard) < 7:
            if b"keepalive" in watched.recv(65536):
                heard.append(time.monotonic())
        gaps = [b - a for a, b in zip(heard[1:], heard[2:])]  # from the second: the first may come early
        assert max(gaps) < 1.1, gaps
        assert sum(gaps) / len(gaps) < 1.015, "keepalives drift past the interval: %s" % gaps
    finally:
        for c in conns:
            c.sock.close()
        assert server.stop() == 0
