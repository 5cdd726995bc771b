"""Streams opened with a JWT end when the token expires (SSE: a final `event: token_expired`
with the cursor to resume from; WebSocket: a `token_expired` message, then a close), so the
client reconnects with a fresh token and resumes where it stopped."""
import http.client
import json
import time
import urllib.parse

import pytest

from conftest import Logd, call
from test_jwt import ADMIN, SECRET, jwt
from test_websocket import WebSocket


@pytest.fixture
def server(tmp_path):
    secret_file = tmp_path / "jwt-secret"
    secret_file.write_text(SECRET + "\n")
    srv = Logd(tmp_path / "data", ["--jwt-secret-file", str(secret_file), "--auth-token", ADMIN,
                                   "--keepalive-seconds", "1"]).start()
    assert call(srv.url, "POST", "/v1/topics/orders/records", {"records": [{"value": i} for i in range(3)]}, ADMIN)[0] == 200
    yield srv
    assert srv.stop() == 0


def test_event_stream_ends_when_its_token_expires(server):
    token = jwt({"read": ["orders"]}, exp_in=2)
    u = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", "/v1/topics/orders/events?from=earliest&access_token=" + token)
    resp = conn.getresponse()
    assert resp.status == 200
    started = time.time()
    lines = []
    while True:
        line = resp.readline()  # through the chunked framing: b"" once the stream ends
        if not line:
            break  # the server ended the stream
        lines.append(line.decode().rstrip("\n"))
        assert time.time() - started < 6, "the stream outlived its token: %r" % lines[-10:]
    conn.close()
    i = lines.index("event: token_expired")
    data = json.loads(lines[i + 1][len("data: "):])
    assert data["cursor"] == "2"
    assert [l for l in lines if l.startswith("data: ")][:3] == ["data: 0", "data: 1", "data: 2"]

    # A fresh token resumes after the cursor.
    fresh = jwt({"read": ["orders"]})
    assert call(server.url, "POST", "/v1/topics/orders/records", {"records": [{"value": 3}]}, ADMIN)[0] == 200
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", "/v1/topics/orders/events?access_token=" + fresh, headers={"Last-Event-ID": data["cursor"]})
    resp = conn.getresponse()
    assert resp.status == 200
    for _ in range(20):
        line = resp.readline().decode()
        if line.startswith("data: "):
            assert line == "data: 3\n"
            break
    conn.close()


def test_websocket_ends_when_its_token_expires(server):
    token = jwt({"read": ["orders"]}, exp_in=2)
    ws = WebSocket(server.url, "/v1/topics/orders/ws?from=earliest&access_token=" + token)
    assert ws.status == 101
    started = time.time()
    messages = []
    while True:
        assert time.time() - started < 6, "the WebSocket outlived its token: %r" % messages[-5:]
        b0, b1 = ws._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(ws._read(2), "big")
        payload = ws._read(n)
        if b0 & 0x0F == 0x8:   # close
            code = int.from_bytes(payload[:2], "big")
            break
        if b0 & 0x0F == 0x1:
            messages.append(json.loads(payload))
    ws.close()
    assert code == 1008
    assert messages[-1] == {"type": "token_expired", "cursor": "2"}, messages
