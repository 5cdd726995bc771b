"""SIGTERM with half-dead clients attached, against a real logd: a stream that never reads,
a WebSocket that never reads, a connection stuck mid-head, one stuck mid-body, an idle
keep-alive connection. logd must exit 0 within its grace period (default 10 s) plus a
margin, with everything acknowledged before the signal there after a restart."""
import json
import signal
import socket
import time
import urllib.parse
import urllib.request

from conftest import Logd, connect, produce

GRACE_DEFAULT = 10
MARGIN = 5




def test_sigterm_ends_half_dead_connections_within_the_grace(tmp_path):
    data = tmp_path / "data"
    server = Logd(data).start()
    held = []
    try:
        value = "v" * (256 << 10)
        for _ in range(16):
            produce(server.url, "big", [{"value": value}] * 4)   # 16 MiB: more than any socket buffers
        produce(server.url, "small", [{"value": i} for i in range(100)])

        stream = connect(server.url, rcvbuf=4096)    # an event stream that never reads
        stream.sendall(b"GET /v1/topics/big/events?from=earliest HTTP/1.1\r\nHost: x\r\n\r\n")
        ws = connect(server.url, rcvbuf=4096)        # a WebSocket that never reads
        ws.sendall(b"GET /v1/topics/big/ws?from=earliest HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Sec-WebSocket-Version: 13\r\n\r\n")
        mid_head = connect(server.url)               # a head that never ends
        mid_head.sendall(b"GET /v1/topics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        mid_body = connect(server.url)               # a body that never ends
        mid_body.sendall(b"POST /v1/topics/small/records HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
        idle = connect(server.url)                   # keep-alive, idle after one request
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        held += [stream, ws, mid_head, mid_body, idle]
        time.sleep(1.0)  # the streams fill their buffers and block

        started = time.time()
        server.proc.send_signal(signal.SIGTERM)
        try:
            status = server.proc.wait(GRACE_DEFAULT + MARGIN)
        except Exception:
            server.proc.kill()
            server.proc.wait()
            raise AssertionError("logd did not exit within %d s of SIGTERM" % (GRACE_DEFAULT + MARGIN))
        assert status == 0
        assert time.time() - started <= GRACE_DEFAULT + MARGIN
    finally:
        for sock in held:
            sock.close()
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()

    # Everything acknowledged before the signal is there after a restart.
    again = Logd(data).start()
    try:
        with urllib.request.urlopen(again.url + "/v1/topics/small/records?offset=0&limit=1000", timeout=10) as r:
            assert [rec["value"] for rec in json.loads(r.read())["records"]] == list(range(100))
        with urllib.request.urlopen(again.url + "/v1/topics/big", timeout=10) as r:
            assert json.loads(r.read())["partitions"][0]["end_offset"] == 64
    finally:
        assert again.stop() == 0


def test_grace_period_is_configurable(tmp_path):
    server = Logd(tmp_path / "data", ["--shutdown-grace-seconds", "1"]).start()
    try:
        for _ in range(4):
            produce(server.url, "big", [{"value": "w" * (256 << 10)}] * 8)
        stream = connect(server.url, rcvbuf=4096)
        stream.sendall(b"GET /v1/topics/big/events?from=earliest HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        started = time.time()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(1 + MARGIN) == 0
        assert time.time() - started < 1 + 3
        stream.close()
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
