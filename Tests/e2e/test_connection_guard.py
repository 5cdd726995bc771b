"""Connections that misbehave below the routes, against a real logd: an oversized request
head (431 then closed), a head that never ends (408 then closed), an idle keep-alive
connection (closed), a body shorter than its Content-Length (a client error, not a 500)."""
import json
import socket
import time
import urllib.request

from conftest import Logd, connect, read_until_closed


def split_answer(data):
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else None
    return status, head.decode("latin-1"), body


def metrics(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        return r.read().decode()


def test_oversized_head_is_431_and_closed(tmp_path):
    server = Logd(tmp_path / "data", stderr_path=tmp_path / "logd.log").start()  # the default limit: 32 KiB
    try:
        for head in (
            # One 100 KB header, a 100 KB request line, and many small headers.
            b"GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
            b"GET /v1/topics?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /v1/topics HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n",
        ):
            sock = connect(server.url)
            started = time.time()
            try:
                sock.sendall(head)
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, text, body = split_answer(read_until_closed(sock, 5))
            assert status == 431, text
            assert "connection: close" in text.lower()
            assert json.loads(body)["error"] == "headers_too_large"
            assert time.time() - started < 3
            sock.close()
        # A head within the limit is served on the same server.
        req = urllib.request.Request(server.url + "/v1/topics", headers={"X-Fine": "b" * 8000})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        assert 'eventlog_errors_total{code="headers_too_large"} 3' in metrics(server.url)
    finally:
        assert server.stop() == 0
    log = (tmp_path / "logd.log").read_text()
    assert not [line for line in log.splitlines() if " error " in line or " critical " in line], log


def test_header_limit_is_configurable(tmp_path):
    server = Logd(tmp_path / "data", ["--max-header-bytes", "4096"]).start()
    try:
        sock = connect(server.url)
        sock.sendall(b"GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
        status, text, body = split_answer(read_until_closed(sock, 5))
        assert status == 431, text
        sock.close()
        req = urllib.request.Request(server.url + "/v1/topics", headers={"X-Fine": "b" * 3000})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
    finally:
        assert server.stop() == 0


def test_slow_head_is_408_and_closed(tmp_path):
    server = Logd(tmp_path / "data", ["--header-timeout-seconds", "1", "--idle-timeout-seconds", "30"]).start()
    try:
        sock = connect(server.url)
        started = time.time()
        sock.sendall(b"GET /v1/topics HTTP/1.1\r\nHost: x\r\n")  # a slowloris: the head never ends
        status, text, body = split_answer(read_until_closed(sock, 6))
        elapsed = time.time() - started
        assert status == 408, text
        assert json.loads(body)["error"] == "request_timeout"
        assert 0.8 < elapsed < 4, elapsed
        sock.close()
    finally:
        assert server.stop() == 0


def test_idle_connection_is_closed(tmp_path):
    server = Logd(tmp_path / "data", ["--idle-timeout-seconds", "1", "--header-timeout-seconds", "30"]).start()
    try:
        # A connection that never sends anything, and one idle after a first request.
        silent = connect(server.url)
        kept = connect(server.url)
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.time()
        first = read_until_closed(kept, 6)
        assert first.startswith(b"HTTP/1.1 200"), first
        assert read_until_closed(silent, 6) == b""
        assert time.time() - started < 4
        silent.close()
        kept.close()
    finally:
        assert server.stop() == 0


def test_body_shorter_than_its_length_is_a_client_error(tmp_path):
    server = Logd(tmp_path / "data", ["--log-level", "debug"], stderr_path=tmp_path / "logd.log").start()
    try:
        sock = connect(server.url)
        sock.sendall(b"POST /v1/topics/short/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"records\": [")
        sock.shutdown(socket.SHUT_WR)
        status, text, body = split_answer(read_until_closed(sock, 5))
        sock.close()
        assert status in (400, None), text  # a 400, or just a close
        if status:
            assert json.loads(body)["error"] == "incomplete_body"
        text = metrics(server.url)
        assert 'code="internal_error"' not in text, text
        if status:
            assert 'eventlog_errors_total{code="incomplete_body"} 1' in text
        # Nothing was appended.
        with urllib.request.urlopen(server.url + "/v1/topics", timeout=10) as r:
            assert "short" not in r.read().decode()
    finally:
        assert server.stop() == 0
    log = (tmp_path / "logd.log").read_text()
    assert not [line for line in log.splitlines() if " error " in line or " critical " in line], log
