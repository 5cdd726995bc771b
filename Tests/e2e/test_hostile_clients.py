"""Hostile clients against a real logd: malformed request lines and headers, a 1 MB header,
a slowloris, bodies over the limit, invalid JSON and wrong types, numbers at every integer
boundary in every parameter and header, path traversal in topic and group names, and 2,000
connections that never send a byte. Each gets a clear 4xx or a bounded close, never a 5xx;
the server stays up and keeps answering other clients within its normal latency, and its
descriptors and memory return near their baseline. (Boundaries with exact codes per
parameter: test_client_numbers.py; the connection guard's own cases: test_connection_guard.py.)"""
import json
import os
import resource
import socket
import time
import urllib.parse

import pytest

from conftest import heap_in_use_kib, Logd, process_fds, process_rss_kib, produce
from test_client_numbers import call, q

BOUNDARIES = ["-1", "0", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
              "18446744073709551616", "-9223372036854775809", "1e309", "NaN"]


def exchange(url, data, limit=5.0, shut_write=False):
    """Sends raw bytes; returns (status or None, head, body, elapsed) once one whole answer
    arrived or the server closed. Fails when neither happens within `limit` seconds."""
    u = urllib.parse.urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=limit)
    started = time.time()
    try:
        try:
            sock.sendall(data)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        while True:
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                lines = head.split(b"\r\n")
                length = [int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0] or lines[0][9:12] in (b"204", b"304"):
                    break
                if any(line.lower() == b"transfer-encoding: chunked" for line in lines) and body.endswith(b"0\r\n\r\n"):
                    break
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                raise AssertionError("no answer and no close within %ss for %r" % (limit, data[:80]))
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else None
        return status, head.decode("latin-1"), body, time.time() - started
    finally:
        sock.close()


def assert_clear(answer, what):
    """A 4xx with the contract's JSON error, a success, or a close without an answer: never a 5xx."""
    status, head, body, _ = answer
    assert status is None or status < 500, "%s: %s %s" % (what, head, body[:300])
    if status is not None and status >= 400:
        error = json.loads(body)
        assert error["error"] and error["message"], (what, error)


def healthz_latency(url):
    started = time.time()
    status, _, _ = call(url, "GET", "/healthz")
    assert status == 200
    return time.time() - started


def test_malformed_request_lines_and_headers(tmp_path):
    # Small timeouts: a head that never completes (blank lines only, say) is cut in 2 s.
    logd = Logd(tmp_path / "data", ["--header-timeout-seconds", "2", "--idle-timeout-seconds", "2"]).start()
    cases = [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\n: empty\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nBad Name: v\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nX: \x00\x01\x7f\r\n\r\n",
        b"GET /healthz HTTP/1.1\nHost: x\n\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET http://elsewhere/v1/topics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/topics/%zz/records HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/topics/\xff\xfe/records HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/topics/a b/records HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G\x00T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"FOO /v1/topics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"X" * 20000 + b" /v1/topics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabc",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc\r\n",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
        b"POST /v1/topics/m/records HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999999\r\nExpect: 100-continue\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"GET /v1/topics/m/ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\n\r\n",
        b"GET /healthz HTTP/1.0\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 100,
    ]
    try:
        for data in cases:
            # Sent whole and also with the client's side shut, as a client that gives up would.
            for shut in (False, True):
                answer = exchange(logd.url, data, shut_write=shut)
                assert_clear(answer, data[:80])
                assert answer[3] < 4, (data[:80], answer[3])
            assert logd.proc.poll() is None, "logd died on %r" % data[:80]
        assert healthz_latency(logd.url) < 1
    finally:
        assert logd.stop() == 0


def test_a_one_megabyte_header_is_431_and_closed(logd):
    for data in (b"GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n",
                 b"GET /v1/topics HTTP/1.1\r\nHost: x\r\n" + b"X-Many: v\r\n" * 100_000 + b"\r\n"):
        status, head, body, elapsed = exchange(logd.url, data)
        assert status == 431, head
        assert json.loads(body)["error"] == "headers_too_large"
        assert elapsed < 4
    assert healthz_latency(logd.url) < 1


def test_slowloris_one_byte_a_second_is_cut_at_the_header_timeout(tmp_path):
    server = Logd(tmp_path / "data", ["--header-timeout-seconds", "2", "--idle-timeout-seconds", "30"]).start()
    try:
        u = urllib.parse.urlsplit(server.url)
        clients = [socket.create_connection((u.hostname, u.port), timeout=10) for _ in range(20)]
        head = b"GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100
        started = time.time()
        closed = {}
        for i in range(len(head)):
            for n, c in enumerate(clients):
                if n in closed:
                    continue
                try:
                    c.sendall(head[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    closed[n] = time.time() - started
            # Other clients are served at normal speed meanwhile.
            assert healthz_latency(server.url) < 1
            if len(closed) == len(clients) or time.time() - started > 8:
                break
            time.sleep(1)
        for n, c in enumerate(clients):
            c.settimeout(5)
            data = b""
            try:
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            assert data.startswith(b"HTTP/1.1 408") or data == b"", data[:200]
            c.close()
        assert time.time() - started < 12
        assert server.proc.poll() is None
    finally:
        assert server.stop() == 0


def test_bodies_over_the_limit_or_short_of_their_length(tmp_path):
    server = Logd(tmp_path / "data", ["--max-body-bytes", "4096", "--idle-timeout-seconds", "2"]).start()
    try:
        url = server.url
        raw = b"POST /v1/topics/b/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        # Declared over the limit, sent or not.
        for data in (raw + b"Content-Length: 5000\r\n\r\n" + b"x" * 5000, raw + b"Content-Length: 5000\r\n\r\n"):
            status, head, body, _ = exchange(url, data)
            assert status == 413 and json.loads(body)["error"] == "payload_too_large", head
        # Chunked, growing past the limit with no length.
        chunked = raw + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(b"400\r\n" + b"c" * 1024 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
        status, head, body, _ = exchange(url, chunked)
        assert status == 413, head
        # Exactly the limit is fine.
        status, head, _, _ = exchange(url, raw + b"Content-Length: 4096\r\n\r\n" + b"y" * 4096)
        assert status == 200, head
        # Shorter than its length and then silent: 408 once the body stalls for the idle timeout.
        status, head, body, elapsed = exchange(url, raw + b"Content-Length: 100\r\n\r\nonly this", limit=6)
        assert status == 408 and json.loads(body)["error"] == "request_timeout", head
        assert elapsed < 5
        # Nothing but the one whole body was appended.
        status, _, body = call(url, "GET", "/v1/topics/b/records?offset=0")
        assert status == 200 and len(json.loads(body)["records"]) == 1
        assert server.proc.poll() is None
    finally:
        assert server.stop() == 0


def test_a_malformed_chunked_body_is_an_invalid_request(logd):
    """Not `incomplete_body`: the body did not end early, its framing is not HTTP/1.1."""
    raw = b"POST /v1/topics/c/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
    for data in (raw + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                 raw + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc\r\n",
                 raw + b"Transfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n",
                 raw + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n"):
        status, head, body, _ = exchange(logd.url, data)
        assert status == 400, head
        assert json.loads(body)["error"] == "invalid_request", (data, body)
    status, _, body = call(logd.url, "GET", "/v1/topics")
    assert "\"c\"" not in body.decode(), body


def test_invalid_json_and_wrong_types(logd):
    produce(logd.url, "j", [{"value": 1}])
    json_headers = {"Content-Type": "application/json"}
    bodies = [b"", b"{", b"not json", b"[]", b"null", b"{\"records\": {}}", b"{\"records\": []}",
              b"{\"records\": [1]}", b"{\"records\": [{\"value\": 1,}]}",
              b"{\"records\": [{\"value\": 1, \"key\": 5}]}", b"{\"records\": [{\"value\": 1, \"headers\": []}]}",
              b"{\"records\": [{\"value\": 1, \"headers\": {\"a\": 1}}]}", b"{\"records\": [{\"value\": 1, \"partition\": \"0\"}]}",
              b"{\"records\": [{\"value\": 1, \"timestamp\": true}]}", b"{\"records\": [{\"value_b64\": \"!!\"}]}",
              b"{\"records\": [{\"value\": 1, \"value_b64\": \"AA==\"}]}", b"{\"records\": [{\"value\": \"\\ud800\"}]}",
              b"{\"records\": [{\"value\": \"\xff\xfe\"}]}", b"[" * 100_000 + b"]" * 100_000,
              b"{\"records\": [" + b",".join([b"{\"value\": 1}"] * 10_001) + b"]}",
              b"{\"records\": [{\"value\": 1}]} trailing", b"\xef\xbb\xbf{\"records\": [{\"value\": 1}]}"]
    for body in bodies:
        answer = call(logd.url, "POST", "/v1/topics/j/records", body=body, headers=json_headers)
        assert 400 <= answer[0] < 500, (body[:60], answer)
        assert json.loads(answer[2])["error"], answer
    configs = [b"{", b"[]", b"{\"partitions\": \"2\"}", b"{\"partitions\": 1.5}", b"{\"durability\": 1}",
               b"{\"durability\": \"sometimes\"}", b"{\"cleanup_policy\": [\"compact\"]}", b"{\"compression\": \"rar\"}",
               b"{\"retention_ms\": null}", b"{\"unknown_setting\": 1}", b"[" * 100_000]
    for n, body in enumerate(configs):
        answer = call(logd.url, "PUT", "/v1/topics/cfg-%d" % n, body=body, headers=json_headers)
        assert 400 <= answer[0] < 500, (body[:60], answer)
    group_bodies = [b"{", b"{\"offsets\": 1}", b"{\"offsets\": [{\"topic\": 1, \"partition\": 0, \"offset\": 0}]}",
                    b"{\"offsets\": [{\"topic\": \"j\", \"partition\": 0, \"offset\": \"0\"}]}",
                    b"{\"offsets\": [{\"topic\": \"j\", \"partition\": 0}]}"]
    for body in group_bodies:
        answer = call(logd.url, "POST", "/v1/groups/g/commits", body=body, headers=json_headers)
        assert 400 <= answer[0] < 500, (body[:60], answer)
    for body in (b"{", b"{\"topics\": \"j\"}", b"{\"topics\": [1]}", b"{\"topics\": [\"j\"], \"session_timeout_ms\": \"1\"}",
                 b"{\"topics\": [\"j\"], \"strategy\": \"best\"}",
                 # A reset that is not a string was taken for none (found by schemathesis).
                 b"{\"topics\": [\"j\"], \"reset\": {}}", b"{\"topics\": [\"j\"], \"reset\": 1}"):
        answer = call(logd.url, "POST", "/v1/groups/g/members", body=body, headers=json_headers)
        assert 400 <= answer[0] < 500, (body[:60], answer)
    # Nothing was appended or created by any of it.
    status, _, body = call(logd.url, "GET", "/v1/topics/j/records?offset=0")
    assert len(json.loads(body)["records"]) == 1
    status, _, body = call(logd.url, "GET", "/v1/topics")
    assert not [t for t in json.loads(body)["topics"] if t["name"].startswith("cfg-")], body
    assert healthz_latency(logd.url) < 1


def test_numbers_at_every_integer_boundary_everywhere(logd):
    produce(logd.url, "n", [{"value": i} for i in range(3)])
    json_headers = {"Content-Type": "application/json"}
    checked = 0
    for v in BOUNDARIES:
        qv = q(v)
        gets = ["/v1/topics/n/records?offset=" + qv, "/v1/topics/n/records?partition=" + qv,
                "/v1/topics/n/records?limit=" + qv, "/v1/topics/n/records?wait_ms=" + qv,
                "/v1/groups/g/records?member_id=m&limit=" + qv, "/v1/groups/g/records?member_id=m&wait_ms=" + qv]
        for path in gets:
            assert_clear(exchange(logd.url, ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode(), limit=8), path)
            checked += 1
        # Streams: a valid cursor opens one (the head is enough), an invalid one is a 400.
        for head in ("GET /v1/topics/n/events?from=%s HTTP/1.1\r\nHost: x\r\n\r\n" % qv,
                     "GET /v1/topics/n/events?last_event_id=%s HTTP/1.1\r\nHost: x\r\n\r\n" % qv,
                     "GET /v1/topics/n/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: %s\r\n\r\n" % v,
                     "GET /v1/topics/n/ws?cursor=%s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" % qv):
            status, text = stream_head(logd.url, head.encode())
            assert status is None or status < 500, (head, text)
            checked += 1
        posts = [("POST", "/v1/topics/n/records?partition=" + qv, b"x", {}),
                 ("POST", "/v1/topics/n/records", ('{"records": [{"value": 1, "partition": %s}]}' % v).encode(), json_headers),
                 ("POST", "/v1/topics/n/records", ('{"records": [{"value": 1, "timestamp": %s}]}' % v).encode(), json_headers),
                 ("POST", "/v1/groups/g/commits", ('{"offsets": [{"topic": "n", "partition": %s, "offset": 0}]}' % v).encode(), json_headers),
                 ("POST", "/v1/groups/g/commits", ('{"offsets": [{"topic": "n", "partition": 0, "offset": %s}]}' % v).encode(), json_headers),
                 ("POST", "/v1/groups/g/commits", ('{"offsets": [{"topic": "n", "partition": 0, "offset": 0}], "member_id": "m", "generation": %s}' % v).encode(), json_headers),
                 ("POST", "/v1/groups/g/members", ('{"topics": ["n"], "session_timeout_ms": %s}' % v).encode(), json_headers)]
        for setting in ("partitions", "segment_bytes", "retention_ms", "retention_bytes", "max_batch_bytes", "index_interval_bytes",
                        "segment_ms", "delete_retention_ms", "min_compaction_lag_ms", "max_compaction_lag_ms"):
            posts.append(("PUT", "/v1/topics/b-%s-%d" % (setting.replace("_", "-"), BOUNDARIES.index(v)),
                          ('{"%s": %s}' % (setting, v)).encode(), json_headers))
        posts.append(("PUT", "/v1/topics/b-interval-%d" % BOUNDARIES.index(v),
                      ('{"durability": "interval", "durability_interval_ms": %s}' % v).encode(), json_headers))
        for method, path, body, headers in posts:
            answer = call(logd.url, method, path, body=body, headers=headers)
            assert answer[0] < 500, (method, path, body, answer)
            if answer[0] >= 400:
                assert json.loads(answer[2])["error"], answer
            checked += 1
        # Content-Length itself.
        answer = exchange(logd.url, ("POST /v1/topics/n/records HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\nabc" % v).encode())
        assert_clear(answer, "Content-Length: " + v)
        assert logd.proc.poll() is None, "logd died at %s" % v
    assert checked > 200
    assert healthz_latency(logd.url) < 1


def stream_head(url, data):
    """Sends a request that may open a stream; returns its status and head, then hangs up."""
    u = urllib.parse.urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    try:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head = received.partition(b"\r\n\r\n")[0].decode("latin-1")
        return (int(head.split(" ")[1]) if head.startswith("HTTP/1.") else None), head
    finally:
        sock.close()


def test_path_traversal_in_topic_and_group_names(tmp_path):
    server = Logd(tmp_path / "data").start()
    try:
        names = ["..", ".", "%2e%2e", "%2E%2E", "%2e", "..%2F..%2Fescaped", "%2F", "a%2Fb", "%2Fetc%2Fpasswd",
                 "a%00b", "%00", "..%5C..%5Cescaped", "%2e%2e%2f%2e%2e%2fescaped", "a%20b", "%C3%A4", "x" * 250,
                 "%252e%252e", "-", "_"]
        for n in names:
            for method, path, body in (("PUT", "/v1/topics/%s" % n, b"{}"), ("POST", "/v1/topics/%s/records" % n, b"x"),
                                       ("GET", "/v1/topics/%s/records" % n, None), ("GET", "/v1/topics/%s" % n, None),
                                       ("DELETE", "/v1/topics/%s" % n, None), ("POST", "/v1/topics/%s/compact" % n, None),
                                       ("POST", "/v1/groups/%s/commits" % n, b'{"offsets": [{"topic": "t", "partition": 0, "offset": 0}]}'),
                                       ("GET", "/v1/groups/%s/lag" % n, None), ("GET", "/v1/groups/%s/commits" % n, None),
                                       ("POST", "/v1/groups/%s/members" % n, b'{"topics": ["t"]}')):
                answer = exchange(server.url, ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (method, path, len(body or b""))).encode() + (body or b""))
                assert_clear(answer, "%s %s" % (method, path))
            status, text = stream_head(server.url, ("GET /v1/topics/%s/events HTTP/1.1\r\nHost: x\r\n\r\n" % n).encode())
            assert status is None or status < 500, (n, text)
        assert server.proc.poll() is None
    finally:
        assert server.stop() == 0
    # Nothing was created outside the data directory, and every topic directory has a valid name.
    assert sorted(os.listdir(tmp_path)) == ["data"], os.listdir(tmp_path)
    for name in os.listdir(tmp_path / "data" / "topics"):
        assert name not in (".", "..") and all(c.isalnum() or c in "._-" for c in name), name


# 2,000 in `make test`; HOSTILE_SILENT_CONNECTIONS=10000 for the full count (Docs/RELIABILITY.md).
SILENT_CONNECTIONS = int(os.environ.get("HOSTILE_SILENT_CONNECTIONS", "2000"))


def silent_wave(server, base_fds, normal):
    """Opens SILENT_CONNECTIONS connections that send nothing, checks that other clients are
    served meanwhile, then that the server closes every one by its idle timeout and lets go of
    their descriptors. Returns (seconds to open them, peak descriptors)."""
    pid = server.proc.pid
    u = urllib.parse.urlsplit(server.url)
    silent = []
    begun = time.time()
    for _ in range(SILENT_CONNECTIONS):
        silent.append(socket.create_connection((u.hostname, u.port), timeout=10))
    opened = time.time()
    peak_fds = process_fds(pid)
    while peak_fds < base_fds + SILENT_CONNECTIONS and time.time() < opened + 2:
        time.sleep(0.05)
        peak_fds = max(peak_fds, process_fds(pid))
    assert peak_fds >= base_fds + SILENT_CONNECTIONS * 0.9, (base_fds, peak_fds, opened - begun)
    # Served meanwhile, within the normal latency (with slack for a shared machine).
    for i in range(10):
        started = time.time()
        produce(server.url, "busy", [{"value": i}])
        status, _, _ = call(server.url, "GET", "/v1/topics/busy/records?offset=0")
        assert status == 200
        assert time.time() - started < max(1.0, 20 * normal), time.time() - started
    # Each is closed by the server once its idle timeout passed: a bounded close.
    for s in silent:
        s.settimeout(max(0.1, opened + 15 - time.time()))
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
        s.close()
    assert time.time() - opened < 15
    deadline = time.time() + 10
    while process_fds(pid) > base_fds + 16 and time.time() < deadline:
        time.sleep(0.2)
    assert process_fds(pid) <= base_fds + 16, (base_fds, process_fds(pid))
    return opened - begun, peak_fds


def test_thousands_of_connections_that_never_send_a_byte(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SILENT_CONNECTIONS + 512
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(wanted, soft)), hard))
        except (ValueError, OSError):
            pass
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit < wanted:
        pytest.skip("the descriptor limit (%d) is too low for %d connections" % (limit, SILENT_CONNECTIONS))
    # logd inherits the raised limit.
    server = Logd(tmp_path / "data", ["--idle-timeout-seconds", "8"]).start()
    try:
        pid = server.proc.pid
        produce(server.url, "busy", [{"value": 0}])
        normal = max(healthz_latency(server.url) for _ in range(20))
        base_fds, base_rss, base_heap = process_fds(pid), process_rss_kib(pid), heap_in_use_kib(server.url)
        # Two waves: the first may leave the allocator holding freed memory; the second must
        # not add to it (nothing per connection is kept).
        seconds, peak = silent_wave(server, base_fds, normal)
        first_rss = process_rss_kib(pid)
        silent_wave(server, base_fds, normal)
        rss, heap = process_rss_kib(pid), heap_in_use_kib(server.url)
        print("silent connections: 2 waves of %d (opened in %.1f s); logd fds %d -> %d -> %d, RSS %d -> %d -> %d KiB, "
              "heap in use %d -> %d KiB; descriptor limit %d; normal latency %.1f ms"
              % (SILENT_CONNECTIONS, seconds, base_fds, peak, process_fds(pid), base_rss, first_rss, rss, base_heap, heap,
                 limit, normal * 1000))
        # Nothing per connection is kept: the memory in use returns to its baseline, and the
        # second wave reuses what the allocator kept from the first (32 KiB a connection at most).
        assert heap <= base_heap + 8 * 1024, (base_heap, heap)
        assert rss <= first_rss + 8 * 1024, (base_rss, first_rss, rss)
        assert rss <= base_rss + 32 * SILENT_CONNECTIONS, (base_rss, rss)
        assert healthz_latency(server.url) < 1
    finally:
        assert server.stop() == 0
