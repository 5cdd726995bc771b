"""JWT authentication against a real logd: HS256 tokens made here (standard library only),
scopes per topic and group on event streams and WebSockets, expiry."""
import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.parse

import pytest

from conftest import Logd, call
from test_websocket import WebSocket

SECRET = "e2e-jwt-secret-" + "x" * 40
ADMIN = "admin-token-e2e"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(grants, exp_in=3600, secret=SECRET):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "e2e", "exp": int(time.time()) + exp_in, "logd": grants}).encode())
    signing_input = (header + "." + payload).encode()
    signature = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return header + "." + payload + "." + signature


def open_stream(url, path):
    """Opens an event stream; returns (status, connection, response), reading nothing yet."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", path, headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    return resp.status, conn, resp


def first_data(resp):
    for _ in range(100):
        line = resp.fp.readline().decode()
        if line.startswith("data:"):
            return line[len("data:"):].strip()
    raise AssertionError("no event")


@pytest.fixture
def server(tmp_path):
    secret_file = tmp_path / "jwt-secret"
    secret_file.write_text(SECRET + "\n")
    srv = Logd(tmp_path / "data", ["--jwt-secret-file", str(secret_file), "--auth-token", ADMIN]).start()
    for topic in ("orders", "audit"):
        assert call(srv.url, "PUT", "/v1/topics/" + topic, {"partitions": 1}, ADMIN)[0] == 201
    assert call(srv.url, "POST", "/v1/topics/orders/records", {"records": [{"value": "o1"}]}, ADMIN)[0] == 200
    yield srv
    assert srv.stop() == 0


def test_event_stream_follows_the_tokens_read_scope(server):
    reader = jwt({"read": ["orders"]})
    status, conn, resp = open_stream(server.url, "/v1/topics/orders/events?from=earliest&access_token=" + reader)
    assert status == 200
    assert first_data(resp) == '"o1"'
    conn.close()
    status, conn, resp = open_stream(server.url, "/v1/topics/audit/events?from=earliest&access_token=" + reader)
    assert status == 403 and json.loads(resp.read())["error"] == "forbidden"
    conn.close()
    # A group on the stream needs the group too.
    status, conn, resp = open_stream(server.url, "/v1/topics/orders/events?group=billing&access_token=" + reader)
    assert status == 403
    conn.close()
    member = jwt({"read": ["orders"], "groups": ["billing"]})
    status, conn, resp = open_stream(server.url, "/v1/topics/orders/events?group=billing&from=earliest&access_token=" + member)
    assert status == 200
    conn.close()


def test_expired_and_forged_tokens_are_401(server):
    for token in (jwt({"read": ["*"]}, exp_in=-30), jwt({"read": ["*"]}, secret="another-secret-" + "y" * 40)):
        status, conn, resp = open_stream(server.url, "/v1/topics/orders/events?access_token=" + token)
        assert status == 401 and json.loads(resp.read())["error"] == "unauthorized"
        conn.close()
        assert call(server.url, "GET", "/v1/topics", token=token)[0] == 401


def test_websocket_produce_needs_the_write_scope(server):
    reader = jwt({"read": ["orders"]})
    ws = WebSocket(server.url, "/v1/topics/orders/ws?cursor=-1&access_token=" + reader)
    assert ws.status == 101
    assert ws.recv()["type"] == "start"
    ws.send({"type": "produce", "id": 1, "records": [{"value": "nope"}]})
    msg = ws.recv()
    while msg["type"] in ("record", "keepalive"):
        msg = ws.recv()
    assert msg["type"] == "error" and msg["error"] == "forbidden" and msg["id"] == 1
    ws.close()

    both = jwt({"read": ["orders"], "write": ["orders"]})
    ws = WebSocket(server.url, "/v1/topics/orders/ws?cursor=-1&access_token=" + both)
    assert ws.recv()["type"] == "start"
    ws.send({"type": "produce", "id": 2, "records": [{"value": "yes"}]})
    msg = ws.recv()
    while msg["type"] in ("record", "keepalive"):
        msg = ws.recv()
    assert msg["type"] == "produced" and msg["id"] == 2
    ws.close()
    # A refused upgrade is the WebSocket library's 400 (no body), whatever the reason.
    ws = WebSocket(server.url, "/v1/topics/audit/ws?access_token=" + reader)
    assert ws.status == 400
    ws.close()
