"""`Accept-Encoding: gzip` on the event stream: the answer is `Content-Encoding: gzip`, and
each event is flushed on its own (Z_SYNC_FLUSH), so a client inflates every record as soon
as it is appended, not only when the stream closes. Clients without gzip get plain text."""
import http.client
import json
import urllib.parse
import urllib.request
import zlib


def produce(url, topic, value):
    req = urllib.request.Request(
        "%s/v1/topics/%s/records" % (url, topic),
        data=json.dumps({"records": [{"value": value}]}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
        return json.loads(r.read())["offsets"][0]["offset"]


def open_stream(url, topic, encoding):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Accept": "text/event-stream"}
    if encoding:
        headers["Accept-Encoding"] = encoding
    conn.request("GET", "/v1/topics/%s/events?from=earliest" % topic, headers=headers)
    resp = conn.getresponse()
    assert resp.status == 200
    return conn, resp


class Events:
    """Reads whatever arrives (read1), inflates it when gzip, splits it into SSE blocks."""

    def __init__(self, resp, gzip):
        self.resp = resp
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self.text = b""

    def next_block(self):
        while b"\n\n" not in self.text:
            raw = self.resp.read1(65536)
            assert raw, "the stream ended"
            self.text += self.inflater.decompress(raw) if self.inflater else raw
        block, self.text = self.text.split(b"\n\n", 1)
        return block.decode()

    def next_record(self):
        while True:
            block = self.next_block()
            lines = block.split("\n")
            if any(line.startswith("data:") for line in lines):
                fields = dict(line.split(": ", 1) for line in lines if ": " in line)
                return fields["id"], json.loads(fields["data"])


def test_gzip_stream_delivers_each_event_at_once(logd):
    topic = "gz"
    produce(logd.url, topic, {"n": -1})  # makes the topic; offset 0
    conn, resp = open_stream(logd.url, topic, "gzip, deflate")
    try:
        assert resp.getheader("Content-Encoding") == "gzip"
        assert resp.getheader("Content-Type").startswith("text/event-stream")
        events = Events(resp, gzip=True)
        assert events.next_block().startswith("retry: ")
        assert events.next_block() == "id: -1"
        assert events.next_record() == ("0", {"n": -1})
        # Each append is decoded before the next one is made: nothing waits for the close.
        for n in range(20):
            offset = produce(logd.url, topic, {"n": n, "pad": "x" * (n * 50)})
            event_id, value = events.next_record()
            assert event_id == str(offset)
            assert value == {"n": n, "pad": "x" * (n * 50)}
    finally:
        conn.close()


def test_plain_stream_without_gzip(logd):
    topic = "plain"
    produce(logd.url, topic, {"n": 0})
    for encoding in (None, "identity", "gzip;q=0"):
        conn, resp = open_stream(logd.url, topic, encoding)
        try:
            assert resp.getheader("Content-Encoding") is None
            events = Events(resp, gzip=False)
            assert events.next_block().startswith("retry: ")
            assert events.next_block() == "id: -1"
            assert events.next_record() == ("0", {"n": 0})
        finally:
            conn.close()


def test_json_answers_are_gzipped_when_accepted(logd):
    """Fetch answers of 1 KiB or more come gzipped to clients that accept it, plain otherwise;
    small answers stay plain."""
    from conftest import produce as produce_many
    produce_many(logd.url, "jz", [{"value": {"event": "page_view", "n": i}} for i in range(200)])
    u = urllib.parse.urlsplit(logd.url)

    def fetch(encoding, limit):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        headers = {"Accept-Encoding": encoding} if encoding else {}
        conn.request("GET", "/v1/topics/jz/records?partition=0&offset=0&limit=%d" % limit, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp, body

    zipped, raw = fetch("gzip, deflate", 200)
    assert zipped.status == 200 and zipped.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in (zipped.getheader("Vary") or "")
    plain_resp, plain = fetch(None, 200)
    assert plain_resp.getheader("Content-Encoding") is None
    assert zlib.decompress(raw, 16 + zlib.MAX_WBITS) == plain
    assert len(raw) * 3 < len(plain)
    assert [r["value"]["n"] for r in json.loads(plain)["records"]] == list(range(200))
    small_resp, small = fetch("gzip", 1)
    assert small_resp.getheader("Content-Encoding") is None and json.loads(small)["records"]
