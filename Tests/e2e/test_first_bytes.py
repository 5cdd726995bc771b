"""The choice of a new connection's pipeline from its first bytes, against a real logd: HTTP/2's
preface (h2c), a plain HTTP/1.1 head and a WebSocket upgrade are each served whatever packets
they arrive in; a client that shuts its side before a request could begin is closed at once,
not after the idle timeout."""
import base64
import os
import socket
import struct
import time

from conftest import Logd, connect, produce, read_until_closed
from h2_client import PREFACE, SETTINGS


def send_in_pieces(sock, data, cuts):
    """Sends `data` in pieces ending at `cuts`, each its own packet (no Nagle, a pause between)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = 0
    for end in list(cuts) + [len(data)]:
        if end > start:
            sock.sendall(data[start:end])
            time.sleep(0.02)
            start = end


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed before an answer: %r" % data
        data += chunk
    return data


def test_every_protocol_is_chosen_right_whatever_the_packets(tmp_path):
    server = Logd(tmp_path / "data").start()
    try:
        plain = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        # Cut everywhere that matters: inside the request line, between `\r\n` and `\r\n`.
        for cuts in ([1], [3, 20], [len(plain) - 3], [len(plain) - 2], [len(plain) - 1], range(1, len(plain))):
            sock = connect(server.url)
            send_in_pieces(sock, plain, cuts)
            assert read_head(sock).startswith(b"HTTP/1.1 200"), cuts
            sock.close()

        produce(server.url, "first-bytes", [{"value": 1}])
        key = base64.b64encode(os.urandom(16))
        upgrade = (b"GET /v1/topics/first-bytes/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                   b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n")
        at = upgrade.index(b"Upgrade: websocket")
        # Inside the `Upgrade` name, just before it, inside the blank line, one byte at a time.
        for cuts in ([at + 3], [at - 1, at + 1], [len(upgrade) - 2], range(1, len(upgrade))):
            sock = connect(server.url)
            send_in_pieces(sock, upgrade, cuts)
            head = read_head(sock)
            assert head.startswith(b"HTTP/1.1 101"), (cuts, head)
            sock.close()

        settings = struct.pack(">I", 0)[1:] + bytes([SETTINGS, 0]) + struct.pack(">I", 0)
        for cuts in ([1], [10, 18, 20], [len(PREFACE)], range(1, len(PREFACE) + 9)):
            sock = connect(server.url)
            send_in_pieces(sock, PREFACE + settings, cuts)
            sock.settimeout(5)
            frame = sock.recv(9)
            # The server's first frame is its SETTINGS: HTTP/2, not an HTTP/1.1 answer.
            assert len(frame) == 9 and frame[3] == SETTINGS, (cuts, frame)
            sock.close()
    finally:
        assert server.stop() == 0


def test_a_client_that_shuts_its_side_before_a_request_is_closed_at_once(tmp_path):
    # The idle and head timeouts are far off: only the half-close can end these connections.
    server = Logd(tmp_path / "data", ["--idle-timeout-seconds", "60", "--header-timeout-seconds", "60"]).start()
    try:
        for sent in (b"", b"PRI * HTTP/2", b"GET /healthz HT"):
            sock = connect(server.url)
            sock.sendall(sent)
            time.sleep(0.1)
            started = time.time()
            sock.shutdown(socket.SHUT_WR)
            assert read_until_closed(sock, 10) == b"", sent
            assert time.time() - started < 3, (sent, time.time() - started)
            sock.close()
        # A request whole before the half-close is still answered.
        sock = connect(server.url)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert read_until_closed(sock, 10).startswith(b"HTTP/1.1 200")
        sock.close()
    finally:
        assert server.stop() == 0
