"""A damaged sealed segment against a real logd: readers learn the damaged range and go on.

Records are written across several small segments, the server is stopped, one byte in the
middle of a sealed segment is flipped, and the server is started again. Then a fetch at the
damaged offsets answers `200` with a `gap` (never `500`, never a file path), an event stream
from `earliest` delivers what precedes the damage, an `event: gap` with the range, and what
follows it; a consumer group reads past it; the operator sees it once in the log and in
`/metrics`."""
import json
import os
import re
import time
import urllib.request

from conftest import Logd, call
from test_websocket import WebSocket

TOPIC = "damaged"
BATCHES = 60


def write_segments(url):
    """60 produce requests of one record each, on 2 KiB segments: several sealed segments."""
    status, _ = call(url, "PUT", "/v1/topics/" + TOPIC, {"partitions": 1, "segment_bytes": 2048})
    assert status in (200, 201), status
    values = []
    for i in range(BATCHES):
        value = {"n": i, "pad": "p" * (40 + i % 30)}
        status, _ = call(url, "POST", "/v1/topics/%s/records" % TOPIC, {"records": [{"value": value}]})
        assert status == 200
        values.append(value)
    return values


def flip_a_byte_in_a_sealed_segment(data_dir):
    pdir = os.path.join(str(data_dir), "topics", TOPIC, "0")
    logs = sorted(f for f in os.listdir(pdir) if f.endswith(".log"))
    assert len(logs) >= 3, logs
    victim = os.path.join(pdir, logs[1])
    with open(victim, "r+b") as f:
        data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF
        f.seek(0)
        f.write(data)


def fetch_all(url, data_dir):
    """Follows next_offset from 0 to the end; returns (records, gaps). No answer names a path."""
    records, gaps, offset = [], [], 0
    for _ in range(200):
        status, raw = call(url, "GET", "/v1/topics/%s/records?offset=%d&limit=7" % (TOPIC, offset))
        assert str(data_dir) not in raw.decode(), raw
        assert status == 200, (status, raw)
        body = json.loads(raw)
        records += body["records"]
        if "gap" in body:
            gaps.append(body["gap"])
        if body["next_offset"] == offset:
            break
        offset = body["next_offset"]
    return records, gaps


def sse_events(url, until_offset, timeout=20):
    """Reads `from=earliest` events until one has id `until_offset`: [(event, id, data)]."""
    resp = urllib.request.urlopen(url + "/v1/topics/%s/events?from=earliest" % TOPIC, timeout=10)
    events, event, event_id, data = [], None, None, []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = resp.readline()
        assert line, "the stream ended"
        line = line.decode().rstrip("\n")
        if line == "":
            if data:
                events.append((event, event_id, "\n".join(data)))
                if event_id == str(until_offset):
                    resp.close()
                    return events
            event, event_id, data = None, None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    resp.close()
    raise AssertionError("the stream went silent after %d events: %r" % (len(events), events[-3:]))


def test_damaged_sealed_segment_is_skipped_with_a_gap(tmp_path):
    data_dir = tmp_path / "data"
    server = Logd(data_dir).start()
    values = write_segments(server.url)
    assert server.stop() == 0
    flip_a_byte_in_a_sealed_segment(data_dir)

    log_path = tmp_path / "logd.log"
    server = Logd(data_dir, stderr_path=log_path).start()
    try:
        # Fetch: 200 with a gap naming the damaged range, then everything after it.
        records, gaps = fetch_all(server.url, data_dir)
        assert len(gaps) == 1, gaps
        gap = gaps[0]
        assert gap["reason"] == "damaged", gap
        lost = range(gap["requested"], gap["resumed_from"])
        assert 0 < len(lost) < BATCHES // 3, gap
        assert [r["offset"] for r in records] == [o for o in range(BATCHES) if o not in lost]
        assert all(r["value"] == values[r["offset"]] for r in records)

        # A fetch right at a damaged offset: the same gap, with the records after it.
        status, raw = call(server.url, "GET", "/v1/topics/%s/records?offset=%d&limit=1" % (TOPIC, lost[-1]))
        assert status == 200 and str(data_dir) not in raw.decode(), (status, raw)
        body = json.loads(raw)
        assert body["gap"] == {"requested": lost[-1], "resumed_from": gap["resumed_from"], "reason": "damaged"}, body
        assert [r["offset"] for r in body["records"]] == [gap["resumed_from"]]

        # SSE from earliest: the records before, an `event: gap` (no id) with the range, the records after.
        events = sse_events(server.url, BATCHES - 1)
        notices = [e for e in events if e[0] == "gap"]
        assert len(notices) == 1, notices
        assert notices[0][1] is None
        assert json.loads(notices[0][2]) == {"partition": 0, "requested": lost[0], "resumed_from": lost[-1] + 1, "reason": "damaged"}
        delivered = [int(e[1]) for e in events if e[0] != "gap"]
        assert delivered == [o for o in range(BATCHES) if o not in lost]
        position = events.index(notices[0])
        assert all(int(e[1]) < lost[0] for e in events[:position])

        # WebSocket: the same gap message between the same records.
        ws = WebSocket(server.url, "/v1/topics/%s/ws?from=earliest" % TOPIC)
        assert ws.status == 101
        messages = []
        while not messages or messages[-1].get("offset") != BATCHES - 1:
            messages.append(ws.recv())
        ws.close()
        assert [m for m in messages if m["type"] == "gap"] == [
            {"type": "gap", "partition": 0, "requested": lost[0], "resumed_from": lost[-1] + 1, "reason": "damaged"}]
        assert [m["offset"] for m in messages if m["type"] == "record"] == [o for o in range(BATCHES) if o not in lost]

        # A consumer group reads past the damage; its routes keep working.
        status, raw = call(server.url, "POST", "/v1/groups/g/members", {"topics": [TOPIC], "session_timeout_ms": 30000})
        assert status == 200, raw
        member = json.loads(raw)["member_id"]
        got = []
        for _ in range(50):
            status, raw = call(server.url, "GET", "/v1/groups/g/records?member_id=%s&limit=10" % member)
            assert status == 200 and str(data_dir) not in raw.decode(), (status, raw)
            body = json.loads(raw)
            got += [r["offset"] for r in body["records"]]
            if body["positions"] and body["positions"][0]["next_offset"] == BATCHES:
                break
        assert got == [o for o in range(BATCHES) if o not in lost]
        status, _ = call(server.url, "POST", "/v1/groups/g/commits",
                         {"offsets": [{"topic": TOPIC, "partition": 0, "offset": BATCHES}]})
        assert status == 204
        status, raw = call(server.url, "GET", "/v1/groups/g/lag")
        assert status == 200, raw

        # The operator: one error line for the range (however many readers hit it), and a metric.
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        assert re.search(r'eventlog_damaged_ranges\{[^}]*partition="0"[^}]*topic="%s"[^}]*\} 1\b' % TOPIC, metrics) or \
            re.search(r'eventlog_damaged_ranges\{[^}]*topic="%s"[^}]*partition="0"[^}]*\} 1\b' % TOPIC, metrics), \
            [line for line in metrics.splitlines() if "damaged" in line]
    finally:
        assert server.stop() == 0
    log = log_path.read_text()
    damage_lines = [line for line in log.splitlines() if "stored data is damaged" in line]
    assert len(damage_lines) == 1, damage_lines
    assert "error" in damage_lines[0].lower()
