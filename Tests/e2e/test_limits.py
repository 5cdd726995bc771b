"""The limits the contract names: open connections (`--max-connections`) and streams stuck
on a client that reads nothing (`--stuck-stream-timeout-seconds`)."""
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from conftest import Logd, connect, process_rss_kib, produce


def raw_get(url, path, rcvbuf=None):
    """Sends a GET on a new connection and returns the socket (nothing read yet)."""
    sock = connect(url, rcvbuf)
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n" % (path, urllib.parse.urlsplit(url).netloc)).encode())
    return sock


def read_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "closed before the head"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode(), rest


def read_to_close(sock, rest):
    buf = rest
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def open_live_stream(url, path, timeout=10):
    """Opens a stream that the server really serves (it sends the id-only starting block).

    A connection closed just before (the produce request's) may still be counted for a moment;
    a stream refused meanwhile is answered 200 + retry: and ends, so try again."""
    deadline = time.time() + timeout
    while True:
        sock = raw_get(url, path)
        head, rest = read_head(sock)
        assert " 200 " in head.split("\r\n")[0]
        data = rest
        sock.settimeout(2)
        try:
            while b"\nid:" not in data and b"id: " not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        if b"id: " in data:
            return sock
        sock.close()
        assert time.time() < deadline, "no stream was served within %ss" % timeout
        time.sleep(0.1)


def test_max_connections(tmp_path):
    server = Logd(tmp_path / "data", ["--max-connections", "2", "--retry-ms", "500", "--keepalive-seconds", "1"]).start()
    try:
        produce(server.url, "t", [{"value": 1}])
        held = [open_live_stream(server.url, "/v1/topics/t/events")]   # one stream holds a connection
        held.append(open_live_stream(server.url, "/v1/topics/t/events"))  # the second is within the limit

        # A third connection: 503 with Retry-After on a normal endpoint, then closed.
        try:
            urllib.request.urlopen(server.url + "/v1/topics", timeout=10)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as error:
            assert error.code == 503
            assert int(error.headers["Retry-After"]) >= 1
            assert json.loads(error.read())["error"] == "unavailable"

        # On the stream endpoint: 200, a retry: line, and the end of the stream.
        sock = raw_get(server.url, "/v1/topics/t/events")
        head, rest = read_head(sock)
        assert " 200 " in head.split("\r\n")[0]
        assert "text/event-stream" in head
        body = read_to_close(sock, rest)
        assert b"retry: " in body and b"data:" not in body
        sock.close()

        # Once the streams go (noticed at their next keepalive write), new connections are served again.
        for s in held:
            s.close()
        deadline = time.time() + 10
        while True:
            try:
                with urllib.request.urlopen(server.url + "/v1/topics", timeout=10) as r:
                    assert r.status == 200
                    break
            except urllib.error.HTTPError as error:
                assert error.code == 503 and time.time() < deadline
                time.sleep(0.1)
    finally:
        assert server.stop() == 0


def wait_for_stuck_close(server):
    """Polls /metrics until the server reports one stuck stream closed (at most 20 s)."""
    deadline = time.time() + 20
    metrics = b""
    while time.time() < deadline:
        time.sleep(0.5)
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
            metrics = r.read()
        if b"eventlog_stuck_streams_closed_total 1" in metrics:
            return
    raise AssertionError(metrics.decode())


def bytes_until_closed(sock):
    """Reads what the server sent until it closed the connection; returns the count."""
    sock.settimeout(10)
    received = 0
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return received
        received += len(chunk)


def test_stuck_stream_is_closed(tmp_path):
    server = Logd(tmp_path / "data", ["--stuck-stream-timeout-seconds", "2"]).start()
    try:
        value = "v" * (512 << 10)  # 512 KiB values: the socket buffers fill at once
        for _ in range(8):
            produce(server.url, "big", [{"value": value}] * 4)
        before = process_rss_kib(server.proc.pid)
        sock = raw_get(server.url, "/v1/topics/big/events?from=earliest", rcvbuf=4096)
        time.sleep(0.5)
        # The client reads nothing: the server must close the stream after about 2 s.
        wait_for_stuck_close(server)
        # Memory stayed bounded: far below the 16 MiB the stream would have buffered.
        assert process_rss_kib(server.proc.pid) - before < 12 << 10
        # The client sees the end of the connection once it reads what was sent.
        assert bytes_until_closed(sock) < 16 << 20
        sock.close()
    finally:
        assert server.stop() == 0


def test_stuck_websocket_is_closed(tmp_path):
    """The same for a WebSocket whose client reads nothing: closed after the timeout."""
    server = Logd(tmp_path / "data", ["--stuck-stream-timeout-seconds", "2"]).start()
    try:
        value = "w" * (512 << 10)
        for _ in range(8):
            produce(server.url, "bigws", [{"value": value}] * 4)
        u = urllib.parse.urlsplit(server.url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(10)
        sock.connect((u.hostname, u.port))
        sock.sendall(("GET /v1/topics/bigws/ws?from=earliest HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                      % (u.netloc, "dGhlIHNhbXBsZSBub25jZQ==")).encode())
        head, _ = read_head(sock)
        assert head.startswith("HTTP/1.1 101"), head
        wait_for_stuck_close(server)
        assert bytes_until_closed(sock) < 16 << 20
        sock.close()
    finally:
        assert server.stop() == 0
