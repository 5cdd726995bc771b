"""The WebSocket endpoint: records with cursors, resume, produce on the same socket
(a minimal RFC 6455 client over a raw socket: standard library only)."""
import base64
import json
import os
import socket
import struct
import urllib.parse
import urllib.request


class WebSocket:
    def __init__(self, url, path, ssl_context=None):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        if ssl_context is not None:  # wss://
            self.sock = ssl_context.wrap_socket(self.sock, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (path, u.netloc, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        payload = self._read(n)
        if b0 & 0x0F == 0x9:      # ping: skip
            return self.recv()
        return json.loads(payload)

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        head = bytes([0x81])
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        else:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def close(self):
        self.sock.close()


def test_websocket_stream_resume_and_produce(logd):
    topic = "ws-topic"
    req = urllib.request.Request("%s/v1/topics/%s/records" % (logd.url, topic), method="POST",
                                 data=json.dumps({"records": [{"value": i} for i in range(3)]}).encode(),
                                 headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(req, timeout=10).status == 200

    ws = WebSocket(logd.url, "/v1/topics/%s/ws?from=earliest" % topic)
    assert ws.status == 101
    assert ws.recv() == {"type": "start", "cursor": "-1"}
    got = [ws.recv() for _ in range(3)]
    assert [m["value"] for m in got] == [0, 1, 2]
    assert [m["cursor"] for m in got] == ["0", "1", "2"]
    ws.send({"type": "produce", "id": "p1", "records": [{"value": "over-ws"}]})
    msgs = [ws.recv(), ws.recv()]
    ack = next(m for m in msgs if m["type"] == "produced")
    rec = next(m for m in msgs if m["type"] == "record")
    assert ack == {"type": "produced", "id": "p1", "offsets": [{"partition": 0, "offset": 3}]}
    assert rec["value"] == "over-ws" and rec["cursor"] == "3"
    ws.close()

    ws = WebSocket(logd.url, "/v1/topics/%s/ws?cursor=1" % topic)
    assert ws.recv() == {"type": "start", "cursor": "1"}
    assert [ws.recv()["offset"] for _ in range(2)] == [2, 3]
    ws.close()

    bad = WebSocket(logd.url, "/v1/topics/%s/ws?cursor=abc" % topic)
    assert bad.status == 400
    bad.close()
