"""Every number a client sends, at its boundaries, against a real logd: each gets a clear
answer (a 400 with the contract's error JSON, or the contract's own answer) and the server
stays up. Query parameters, headers (Last-Event-ID, Content-Length), JSON body members and
WebSocket messages."""
import http.client
import json
import socket
import urllib.parse

import pytest

from conftest import produce
from test_websocket import WebSocket

INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"
# Values no parameter accepts: below zero, too many digits, signs, spaces, non-digits.
ALWAYS_BAD = [INT64_MIN, "-1", "99999999999999999999999999", "18446744073709551616", "+1", " 1", "1 ",
              "1a", "0x10", "1e3", "1.0", "", "-0", "007"]


def call(url, method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read() if "event-stream" not in (resp.getheader("Content-Type") or "") else resp.read(0)
        return resp.status, resp.getheader("Content-Type") or "", data
    finally:
        conn.close()


def assert_alive(logd):
    assert logd.proc.poll() is None, "logd died"
    status, _, _ = call(logd.url, "GET", "/healthz")
    assert status == 200


def assert_error(answer, status, code):
    got_status, content_type, body = answer
    assert got_status == status, (got_status, body)
    assert content_type.startswith("application/json"), (content_type, body)
    error = json.loads(body)
    assert error["error"] == code and error["message"], error


def q(value):
    return urllib.parse.quote(value, safe="")


def test_query_parameters_at_their_boundaries(logd):
    produce(logd.url, "n", [{"value": i} for i in range(3)])
    fetch = "/v1/topics/n/records?"
    for bad in ALWAYS_BAD:
        assert_error(call(logd.url, "GET", fetch + "offset=" + q(bad)), 400, "invalid_offset")
        assert_error(call(logd.url, "GET", fetch + "partition=" + q(bad)), 400, "invalid_partition")
        assert_error(call(logd.url, "GET", fetch + "limit=" + q(bad)), 400, "invalid_limit")
        assert_error(call(logd.url, "GET", fetch + "wait_ms=" + q(bad)), 400, "invalid_wait")
        assert_error(call(logd.url, "GET", "/v1/topics/n/events?from=" + q(bad)), 400, "invalid_offset")
        assert_error(call(logd.url, "POST", "/v1/topics/n/records?partition=" + q(bad), body=b"x"), 400, "invalid_partition")
        assert_error(call(logd.url, "GET", "/v1/groups/g/records?member_id=m&limit=" + q(bad)), 400, "invalid_limit")
        assert_error(call(logd.url, "GET", "/v1/groups/g/records?member_id=m&wait_ms=" + q(bad)), 400, "invalid_wait")
        assert_alive(logd)
    # Int64.max: the contract's answers.
    assert_error(call(logd.url, "GET", fetch + "offset=" + INT64_MAX), 416, "offset_out_of_range")
    assert_error(call(logd.url, "GET", fetch + "partition=" + INT64_MAX), 400, "invalid_partition")
    assert_error(call(logd.url, "GET", fetch + "limit=" + INT64_MAX), 400, "invalid_limit")
    assert_error(call(logd.url, "GET", fetch + "wait_ms=" + INT64_MAX), 400, "invalid_wait")
    assert_error(call(logd.url, "POST", "/v1/topics/n/records?partition=" + INT64_MAX, body=b"x"), 400, "invalid_partition")
    assert_error(call(logd.url, "POST", "/v1/topics/n/records?partition=1", body=b"x"), 404, "partition_not_found")
    # With a JSON body the records name their partitions, but the parameter is still checked
    # (schemathesis found it ignored: 200 for ?partition=2147483648).
    for bad in ALWAYS_BAD + [INT64_MAX, "2147483648"]:
        assert_error(call(logd.url, "POST", "/v1/topics/n/records?partition=" + q(bad), body=b'{"records": [{"value": 1}]}',
                          headers={"Content-Type": "application/json"}), 400, "invalid_partition")
    # from=<offset> past the end starts at the end (a stream), as the contract says.
    status, content_type, _ = call(logd.url, "GET", "/v1/topics/n/events?from=" + INT64_MAX)
    assert status == 200 and "event-stream" in content_type
    assert_alive(logd)


def test_stream_cursors_at_their_boundaries(logd):
    produce(logd.url, "c", [{"value": 1}])
    for bad in [INT64_MAX, INT64_MIN, "-2", "99999999999999999999", "+1", "1a", "0x1", "007", "1,2", "-0"]:
        assert_error(call(logd.url, "GET", "/v1/topics/c/events", headers={"Last-Event-ID": bad}),
                     400, "invalid_last_event_id")
        assert_error(call(logd.url, "GET", "/v1/topics/c/events?last_event_id=" + q(bad)), 400, "invalid_last_event_id")
        ws = WebSocket(logd.url, "/v1/topics/c/ws?cursor=" + q(bad))
        assert ws.status == 400, bad
        ws.close()
        assert_alive(logd)
    # The largest cursor that names a next offset: past the end, so a reset notice, then the stream.
    u = urllib.parse.urlsplit(logd.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", "/v1/topics/c/events", headers={"Last-Event-ID": "9223372036854775806"})
    resp = conn.getresponse()
    assert resp.status == 200
    lines = [resp.fp.readline() for _ in range(4)]
    assert b"event: reset\n" in lines, lines
    conn.close()
    assert_alive(logd)


def test_json_members_at_their_boundaries(logd):
    produce(logd.url, "j", [{"value": 1}])
    post = lambda path, doc: call(logd.url, "POST", path, body=json.dumps(doc).encode(),
                                  headers={"Content-Type": "application/json"})
    put = lambda path, doc: call(logd.url, "PUT", path, body=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"})
    raw_numbers = [INT64_MIN, "-1", "99999999999999999999999999", "1.0", "1e3", "-0.5"]
    for n in raw_numbers + [INT64_MAX]:
        body = ('{"records": [{"value": 1, "partition": %s}]}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/topics/j/records", body=body,
                          headers={"Content-Type": "application/json"}), 400, "invalid_record")
        body = ('{"records": [{"value": 1, "timestamp": %s}]}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/topics/j/records", body=body,
                          headers={"Content-Type": "application/json"}), 400, "invalid_record")
        for setting in ("partitions", "segment_bytes"):
            answer = call(logd.url, "PUT", "/v1/topics/j-%s" % setting, body=('{"%s": %s}' % (setting, n)).encode())
            assert_error(answer, 400, "invalid_config")
        answer = call(logd.url, "PUT", "/v1/topics/j-interval",
                      body=('{"durability": "interval", "durability_interval_ms": %s}' % n).encode())
        assert_error(answer, 400, "invalid_config")
        body = ('{"offsets": [{"topic": "j", "partition": %s, "offset": 0}]}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/groups/g/commits", body=body), 400, "invalid_partition")
        body = ('{"topics": ["j"], "session_timeout_ms": %s}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/groups/g/members", body=body), 400, "invalid_argument")
        assert_alive(logd)
    for n in raw_numbers:
        body = ('{"offsets": [{"topic": "j", "partition": 0, "offset": %s}]}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/groups/g/commits", body=body), 400, "invalid_offset")
        body = ('{"offsets": [{"topic": "j", "partition": 0, "offset": 0}], "member_id": "m", "generation": %s}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/groups/g/commits", body=body), 400, "invalid_argument")
        # Checked without a member too (schemathesis found 2^63 accepted there).
        body = ('{"offsets": [{"topic": "j", "partition": 0, "offset": 0}], "generation": %s}' % n).encode()
        assert_error(call(logd.url, "POST", "/v1/groups/g/commits", body=body), 400, "invalid_argument")
        for setting in ("retention_ms", "retention_bytes"):
            if n == "-1":
                continue  # -1 is "no limit"
            answer = call(logd.url, "PUT", "/v1/topics/j-%s" % setting, body=('{"%s": %s}' % (setting, n)).encode())
            assert_error(answer, 400, "invalid_config")
        assert_alive(logd)
    # Int64.max where it means something: retention "forever"; a commit past the end.
    assert put("/v1/topics/j-forever", {"retention_ms": int(INT64_MAX), "retention_bytes": int(INT64_MAX)})[0] == 201
    produce(logd.url, "j-forever", [{"value": 1}])
    assert call(logd.url, "POST", "/v1/topics/j-forever/retention")[0] == 200
    assert post("/v1/groups/g/commits", {"offsets": [{"topic": "j", "partition": 0, "offset": int(INT64_MAX)}]})[0] == 204
    assert call(logd.url, "GET", "/v1/groups/g/lag")[0] == 200
    status, _, _ = call(logd.url, "GET", "/v1/topics/j/events?group=g")
    assert status == 200
    assert_alive(logd)


def test_websocket_messages_at_their_boundaries(logd):
    produce(logd.url, "w", [{"value": 1}])
    ws = WebSocket(logd.url, "/v1/topics/w/ws?from=latest")
    assert ws.status == 101 and ws.recv()["type"] == "start"
    for i, n in enumerate([INT64_MAX, INT64_MIN, -1, 10 ** 30]):
        for member in ("partition", "timestamp"):
            ws.send({"type": "produce", "id": i, "records": [{"value": 1, member: n}]})
            msg = ws.recv()
            while msg["type"] in ("record", "keepalive"):
                msg = ws.recv()
            assert msg["type"] == "error" and msg["error"] == "invalid_record" and msg["id"] == i, msg
    ws.close()
    assert_alive(logd)


def raw_request(logd, data, read_timeout=5):
    u = urllib.parse.urlsplit(logd.url)
    sock = socket.create_connection((u.hostname, u.port), timeout=read_timeout)
    sock.sendall(data)
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
                while len(rest) < n:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
        return head.decode("latin-1"), rest
    finally:
        sock.close()


@pytest.mark.parametrize("length", [INT64_MAX, "9223372036854775808", "18446744073709551615",
                                    "99999999999999999999999999", "-1", "+1", "1a", INT64_MIN])
def test_content_length_at_its_boundaries(logd, length):
    head, body = raw_request(logd, ("POST /v1/topics/cl/records HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\nabc"
                                    % length).encode())
    status = int(head.split(" ")[1]) if head else None
    if length in (INT64_MAX, "9223372036854775808", "18446744073709551615"):
        # Lengths the HTTP parser accepts (up to 2^64 - 1): the server's body limit answers at
        # once (past Int64.max the connection used to wait for the body until the idle timeout).
        assert status == 413, head
        assert json.loads(body)["error"] == "payload_too_large"
    else:
        assert status == 400, head  # a length HTTP/1.1 does not allow
        assert json.loads(body)["error"] == "invalid_request"
    assert_alive(logd)
