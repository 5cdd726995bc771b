"""Event streams started in front of NIO's HTTP/1.1 decoder
(Docs/adr/0011-event-streams-in-front-of-the-decoder.md) against a real logd: a connection whose
first request is a plain stream `GET` (alone in its read) is answered by the front lane; the same
request after another one on its connection goes through the decoder (ADR 0009's shortcut),
and with a field the lane declines, through the decoder as well. All must send the same bytes
(the `Date` field's value aside): head, first bytes, live events, and the end at a shutdown."""
import re
import time

from conftest import Logd, call_json, connect, produce

DATE = re.compile(rb"\r\nDate: [^\r]*\r\n", re.IGNORECASE)


def received(sock, quiet=0.3, limit=5.0):
    """What arrives until `quiet` seconds pass without a byte (or the connection ends), with
    the `Date` field's value blanked."""
    data = b""
    sock.settimeout(quiet)
    started = time.time()
    while time.time() - started < limit:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return DATE.sub(b"\r\nDate: -\r\n", data)


def via_lane(url, request):
    sock = connect(url)
    sock.sendall(request)
    return sock


def via_decoder(url, request):
    """The request on a connection whose first request (another route) took the lane away."""
    sock = connect(url)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert received(sock).startswith(b"HTTP/1.1 200")
    sock.sendall(request)
    return sock


def test_streams_started_in_front_of_the_decoder_send_the_same_bytes(tmp_path):
    server = Logd(tmp_path / "data").start()
    try:
        status, body = call_json(server.url, "PUT", "/v1/topics/t", {"partitions": 2})
        assert status == 201, body
        produce(server.url, "t", [{"partition": 0, "value": n} for n in range(3)])
        requests = [
            b"GET /v1/topics/t/events HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /v1/topics/t/events?from=latest&format=envelope HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
            b"GET /v1/topics/t/events?from=earliest HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /v1/topics/t/events?from=2 HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /v1/topics/t/events HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 1,0\r\n\r\n",
            b"GET /v1/topics/t/events?last_event_id=9,0 HTTP/1.1\r\nHost: t\r\n\r\n",
        ]
        streams = []
        for request in requests:
            # The third path: a field the lane declines (TE) and the router ignores.
            declined = request.replace(b"Host: t\r\n", b"Host: t\r\nTE: trailers\r\n")
            trio = (via_lane(server.url, request), via_decoder(server.url, request), via_lane(server.url, declined))
            first = [received(s) for s in trio]
            assert first[0] == first[1] == first[2], (request, first)
            assert first[0].startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked\r\n" in first[0], first[0]
            assert b"retry: " in first[0] and b"id: " in first[0], first[0]
            streams.append(trio)
        produce(server.url, "t", [{"partition": 1, "value": "x"}, {"partition": 0, "value": 4}])
        for request, trio in zip(requests, streams):
            nexts = [received(s) for s in trio]
            assert nexts[0] == nexts[1] == nexts[2], (request, nexts)
            assert b"id: " in nexts[0], nexts[0]
        # A graceful shutdown ends every stream (the last chunk), then its connection.
        server.proc.send_signal(15)
        for request, trio in zip(requests, streams):
            ends = [received(s, quiet=5, limit=15) for s in trio]
            assert ends[0] == ends[1] == ends[2], (request, ends)
            assert ends[0].endswith(b"0\r\n\r\n"), ends[0]
    finally:
        assert server.stop() == 0


def test_a_request_behind_a_stream_started_in_front_waits_for_its_end(tmp_path):
    """What a client sends behind its stream is held until the stream ends (here: the topic is
    deleted), then answered in order; a half-close with it waits too."""
    server = Logd(tmp_path / "data").start()
    try:
        for topic in ("held", "other"):
            status, body = call_json(server.url, "PUT", "/v1/topics/" + topic, {"partitions": 1})
            assert status == 201, body
        sock = via_lane(server.url, b"GET /v1/topics/held/events HTTP/1.1\r\nHost: t\r\n\r\n")
        first = received(sock)
        assert first.startswith(b"HTTP/1.1 200 OK\r\n"), first
        sock.sendall(b"GET /v1/topics/other HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.shutdown(1)  # SHUT_WR
        assert received(sock, quiet=0.5) == b"", "the request behind the stream was answered before its end"
        status, _ = call_json(server.url, "DELETE", "/v1/topics/held")
        assert status in (200, 204), status
        rest = received(sock, quiet=5, limit=15)
        end = rest.index(b"0\r\n\r\n")
        assert rest[end + 5:].startswith(b"HTTP/1.1 200 OK\r\n"), rest
        assert b'"other"' in rest[end:], rest
    finally:
        assert server.stop() == 0
