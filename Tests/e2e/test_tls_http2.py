"""TLS and HTTP/2 against a real logd (Docs/OPERATIONS.md, "TLS and HTTP/2"): HTTPS with
Python and curl, HTTP/2 over TLS (ALPN) with curl, nghttp and h2load, h2c with prior
knowledge, the per-stream limits over HTTP/2, the certificate reloaded on SIGHUP under an
open stream, and a bad certificate at start.

Certificates are made here with `openssl` (conftest.make_certificate); the HTTP/2 clients come
from Debian's nghttp2-client (make deps-tls)."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest

from conftest import Logd, make_certificate, produce
from h2_client import (CANCEL, GOAWAY, HEADERS, PROTOCOL_ERROR, RST_STREAM, SETTINGS_INITIAL_WINDOW_SIZE,
                       SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_HEADER_LIST_SIZE, H2Connection, TLSRecordSocket)
from test_websocket import WebSocket


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed (make deps-tls)" % tool)


def tls_context(cafile):
    return ssl.create_default_context(cafile=cafile)


def https_json(url, cafile, path, body=None, method=None):
    request = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    with urllib.request.urlopen(request, timeout=30, context=tls_context(cafile)) as r:
        return r.status, json.loads(r.read())


def curl(*args, timeout=30):
    need("curl")
    done = subprocess.run(["curl", "-sS"] + list(args), capture_output=True, timeout=timeout)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def curl_json(*args):
    """curl's answer to a request whose body is JSON, and the HTTP version it spoke."""
    code, out, err = curl("-w", "\n%{http_version} %{http_code}", *args)
    assert code == 0, err
    body, _, last = out.rpartition("\n")
    version, status = last.split()
    return version, int(status), json.loads(body) if body else None


def serial_of_new_connection(url, cafile):
    """The serial number (hex, as Python reports it) of the certificate a new TLS connection gets."""
    host, port = url.split("://")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with tls_context(cafile).wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert()["serialNumber"]


class HTTPSEventStream:
    """An SSE stream over HTTPS (HTTP/1.1) with Python's http.client: the lines as they arrive."""

    def __init__(self, url, cafile, path):
        host, port = url.split("://")[1].split(":")
        self.connection = http.client.HTTPSConnection(host, int(port), timeout=15, context=tls_context(cafile))
        self.connection.request("GET", path, headers={"Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type").startswith("text/event-stream")

    def event_until(self, predicate, seconds=15):
        """The first event (its id and its data's JSON) that satisfies `predicate(data)`."""
        deadline, event_id = time.time() + seconds, None
        while time.time() < deadline:
            line = self.response.readline().decode()
            if line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:") and predicate(json.loads(line[5:])):
                return event_id, json.loads(line[5:])
        raise AssertionError("no such event within %ss" % seconds)

    def close(self):
        self.connection.close()


@pytest.fixture
def certificate(tmp_path):
    return make_certificate(tmp_path)


@pytest.fixture
def tls_logd(tmp_path, certificate):
    cert, key = certificate
    server = Logd(tmp_path / "data", ["--tls-certificate", cert, "--tls-key", key,
                                      "--http2-max-concurrent-streams", "7"]).start()
    yield server
    assert server.stop() == 0


def test_https_produce_fetch_stream_and_websocket_with_python_and_curl(tls_logd, certificate):
    url, (cafile, _) = tls_logd.url, certificate
    assert url.startswith("https://127.0.0.1:")

    # An SSE stream open before the produce sees it live (Python, HTTP/1.1 over TLS).
    stream = HTTPSEventStream(url, cafile, "/v1/topics/secure/events?from=earliest")
    try:
        status, answer = https_json(url, cafile, "/v1/topics/secure/records", {"records": [{"key": "k", "value": {"n": 1}}]})
        assert status == 200 and answer["offsets"] == [{"partition": 0, "offset": 0}]
        assert stream.event_until(lambda value: value == {"n": 1}) == ("0", {"n": 1})
    finally:
        stream.close()

    # curl over HTTP/1.1 and over HTTP/2 (ALPN), verifying the certificate.
    version, status, body = curl_json("--cacert", cafile, "--http1.1", "-H", "Content-Type: application/json",
                                      "--data", json.dumps({"records": [{"value": "two"}]}), url + "/v1/topics/secure/records")
    assert (version, status, body["offsets"]) == ("1.1", 200, [{"partition": 0, "offset": 1}])
    version, status, body = curl_json("--cacert", cafile, "--http2", url + "/v1/topics/secure/records?offset=0")
    assert (version, status) == ("2", 200)
    assert [r["value"] for r in body["records"]] == [{"n": 1}, "two"] and body["next_offset"] == 2
    # A long poll over HTTP/2, answered by a produce while it waits.
    poll = subprocess.Popen(["curl", "-sS", "--cacert", cafile, "--http2", "-w", "\n%{http_version}",
                             url + "/v1/topics/secure/records?offset=2&wait_ms=20000"], stdout=subprocess.PIPE)
    time.sleep(0.5)
    produce_status, _ = https_json(url, cafile, "/v1/topics/secure/records", {"records": [{"value": "three"}]})
    out = poll.communicate(timeout=30)[0].decode()
    body, _, version = out.rpartition("\n")
    assert version == "2" and [r["value"] for r in json.loads(body)["records"]] == ["three"]

    # SSE over HTTP/2 with curl: the stream's whole history, then curl's time is up.
    code, out, err = curl("--cacert", cafile, "--http2", "-N", "-v", "--max-time", "3",
                          url + "/v1/topics/secure/events?from=earliest")
    assert code == 28, err  # the stream was still open when curl gave up
    assert "< HTTP/2 200" in err
    values = [json.loads(line[5:]) for line in out.splitlines() if line.startswith("data:")]
    assert values == [{"n": 1}, "two", "three"]

    # WebSocket over TLS (HTTP/1.1: Python offers no ALPN, so the first bytes choose).
    ws = WebSocket(url, "/v1/topics/secure/ws?from=earliest", ssl_context=tls_context(cafile))
    try:
        assert ws.status == 101
        assert ws.recv()["type"] == "start"
        assert ws.recv()["value"] == {"n": 1}
        ws.send({"type": "produce", "id": 7, "records": [{"value": "four"}]})
        seen = [ws.recv() for _ in range(4)]
        assert {"type": "produced", "id": 7, "offsets": [{"partition": 0, "offset": 3}]} in seen
    finally:
        ws.close()

    # Plain HTTP to the TLS port is no request.
    with pytest.raises(Exception):
        urllib.request.urlopen(url.replace("https://", "http://") + "/healthz", timeout=10)


def test_http2_over_tls_with_nghttp_and_h2load(tls_logd, certificate, tmp_path):
    need("nghttp")
    need("h2load")
    url = tls_logd.url
    done = subprocess.run(["nghttp", "-nv", url + "/healthz"], capture_output=True, timeout=30)
    out = done.stdout.decode()
    assert done.returncode == 0, out + done.stderr.decode()
    assert "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7" in out  # --http2-max-concurrent-streams
    assert ":status: 200" in out

    body = tmp_path / "record.json"
    body.write_text(json.dumps({"records": [{"value": "h2load"}]}))
    done = subprocess.run(["h2load", "-n", "200", "-c", "2", "-m", "10", "-d", str(body),
                           "-H", "content-type: application/json", url + "/v1/topics/load/records"],
                          capture_output=True, timeout=60)
    out = done.stdout.decode()
    assert "Application protocol: h2" in out, out
    assert "200 succeeded, 0 failed, 0 errored" in out, out
    assert "status codes: 200 2xx" in out, out
    version, status, answer = curl_json("--cacert", certificate[0], url + "/v1/topics/load/records?offset=0&limit=1000")
    assert version == "2" and answer["next_offset"] == 200
    assert [r["offset"] for r in answer["records"]] == list(range(200))


def test_what_one_flush_writes_is_sealed_in_one_tls_record(tls_logd, certificate):
    """A live SSE event over HTTP/2 is one DATA frame, whose 9-byte header and payload the HTTP/2
    handler writes as two buffers; an HTTP/1.1 answer is a head and a body. Each goes out in one
    flush, and is sealed in one TLS record (one record to encrypt, frame and decrypt instead of
    two), as Nchan's nginx does."""
    url, cafile = tls_logd.url, certificate[0]
    assert https_json(url, cafile, "/v1/topics/sealed", {"partitions": 1}, method="PUT")[0] in (200, 201)
    connection = H2Connection(url, sock=TLSRecordSocket(url, cafile, "h2"))
    try:
        stream = connection.request("GET", "/v1/topics/sealed/events", [("accept", "text/event-stream")])
        connection.body_contains(stream, "id: -1")  # the starting cursor: the stream is live
        before = len(connection.sock.records)
        assert https_json(url, cafile, "/v1/topics/sealed/records", {"records": [{"value": "one"}]})[0] == 200
        connection.body_contains(stream, 'data: "one"')
        event = connection.bodies[stream].split(b"id: -1\n\n", 1)[1]
        assert event.startswith(b"id: ") and event.endswith(b'data: "one"\n\n'), event
        assert connection.sock.records[before:] == [9 + len(event)], "the event's DATA frame in one record"
    finally:
        connection.close()

    raw = TLSRecordSocket(url, cafile, "http/1.1")
    try:
        body = json.dumps({"records": [{"value": "two"}]}).encode()
        raw.sendall(b"POST /v1/topics/sealed/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < int(
                re.search(rb"(?i)content-length: *(\d+)", answer).group(1)):
            chunk = raw.recv(65536)
            assert chunk, "the server closed the connection"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b'"offset":1' in answer
        assert raw.records == [len(answer)], "the answer's head and body in one record"
    finally:
        raw.close()


def test_h2c_with_prior_knowledge_and_http1_for_upgrade(tmp_path):
    server = Logd(tmp_path / "data").start()
    url = server.url
    try:
        # curl with prior knowledge speaks HTTP/2 in clear text.
        version, status, body = curl_json("--http2-prior-knowledge", "-H", "Content-Type: application/json",
                                          "--data", json.dumps({"records": [{"value": "clear"}]}), url + "/v1/topics/plain/records")
        assert (version, status, body["offsets"]) == ("2", 200, [{"partition": 0, "offset": 0}])
        # A fetch and a long poll over h2c, the poll answered by a produce on another connection.
        version, status, body = curl_json("--http2-prior-knowledge", url + "/v1/topics/plain/records?offset=0")
        assert (version, status, [r["value"] for r in body["records"]]) == ("2", 200, ["clear"])
        poll = subprocess.Popen(["curl", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_version}",
                                 url + "/v1/topics/plain/records?offset=1&wait_ms=20000"], stdout=subprocess.PIPE)
        time.sleep(0.5)
        produce(url, "plain", [{"value": "polled"}])
        out = poll.communicate(timeout=30)[0].decode()
        body, _, version = out.rpartition("\n")
        assert version == "2" and [r["value"] for r in json.loads(body)["records"]] == ["polled"]
        # `Upgrade: h2c` is not taken up: the request is answered over HTTP/1.1 (so is any
        # upgrade but a WebSocket's).
        version, status, body = curl_json("--http2", url + "/v1/topics/plain/records?offset=0")
        assert (version, status, [r["value"] for r in body["records"]]) == ("1.1", 200, ["clear", "polled"])
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        sock.close()

        # SSE over h2c: history, then live, on one connection beside a produce on another stream.
        connection = H2Connection(url)
        try:
            stream = connection.request("GET", "/v1/topics/plain/events?from=earliest", [("accept", "text/event-stream")])
            connection.body_contains(stream, 'data: "clear"')
            producer = connection.request("POST", "/v1/topics/plain/records", [("content-type", "application/json")], end_stream=False)
            connection.data(producer, json.dumps({"records": [{"value": "live"}]}).encode(), end_stream=True)
            connection.body_contains(producer, '"offset":2')
            connection.body_contains(stream, 'data: "live"')
        finally:
            connection.close()

        if shutil.which("h2load") and shutil.which("nghttp"):
            done = subprocess.run(["h2load", "-n", "100", "-c", "1", "-m", "10", url + "/healthz"], capture_output=True, timeout=60)
            out = done.stdout.decode()
            assert "Application protocol: h2c" in out and "100 succeeded" in out, out
            done = subprocess.run(["nghttp", "-nv", url + "/healthz"], capture_output=True, timeout=30)
            assert ":status: 200" in done.stdout.decode()
        # Plain HTTP/1.1 on the same port, as before.
        with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
            assert r.status == 200
    finally:
        assert server.stop() == 0


def test_http2_limits_apply_per_stream(tmp_path):
    server = Logd(tmp_path / "data", ["--http2-max-concurrent-streams", "4", "--max-header-bytes", "4096",
                                      "--idle-timeout-seconds", "2", "--stuck-stream-timeout-seconds", "1"]).start()
    url = server.url
    try:
        # At most 4 open streams: opening a fifth is a protocol error.
        connection = H2Connection(url)
        assert connection.server_settings[SETTINGS_MAX_CONCURRENT_STREAMS] == 4
        assert connection.server_settings[SETTINGS_MAX_HEADER_LIST_SIZE] == 8192
        streams = [connection.request("GET", "/v1/topics/limits/events?from=earliest") for _ in range(4)]
        for stream in streams:
            connection.body_contains(stream, "retry:")
        fifth = connection.request("GET", "/v1/topics/limits/events?from=earliest")
        frame = connection.wait_for(lambda f: f is None or (f[0] == RST_STREAM and f[2] == fifth) or f[0] == GOAWAY)
        # SwiftNIO ends the connection for the violation (GOAWAY PROTOCOL_ERROR, RFC 9113 §5.1.2);
        # a client that keeps to SETTINGS_MAX_CONCURRENT_STREAMS, as browsers do, never sees it.
        assert frame is None or frame[0] == GOAWAY, frame
        if frame is not None:
            assert connection.goaway[1] == PROTOCOL_ERROR
        assert fifth not in connection.headers_seen
        connection.close()

        # A head over --max-header-bytes is 431 on its own stream; the connection goes on.
        connection = H2Connection(url)
        big = connection.request("GET", "/healthz", [("x-padding", "p" * 5000)])
        connection.body_contains(big, "headers_too_large")
        small = connection.request("GET", "/healthz")
        connection.body_contains(small, "status")
        connection.wait_ended(small)
        assert small in connection.ended and small not in connection.resets

        # A body that stalls for the idle timeout is 408 on its stream; the connection goes on.
        stalled = connection.request("POST", "/v1/topics/limits/records",
                                     [("content-type", "application/json"), ("content-length", "100")], end_stream=False)
        connection.data(stalled, b'{"records": [')
        started = time.time()
        connection.body_contains(stalled, "request_timeout", seconds=10)
        assert time.time() - started >= 1.5
        connection.ping()
        connection.close()

        # A stream whose client reads nothing (a flow-control window of 0) is reset after the
        # stuck-stream timeout; its connection, and the server, go on.
        produce(url, "stuck", [{"value": "x" * 4000} for _ in range(20)])
        connection = H2Connection(url, settings={SETTINGS_INITIAL_WINDOW_SIZE: 0}, update_windows=False)
        stuck = connection.request("GET", "/v1/topics/stuck/events?from=earliest")
        connection.wait_for(lambda f: f[0] == HEADERS and f[2] == stuck)
        time.sleep(0.5)
        produce(url, "stuck", [{"value": "more"}])  # a write that cannot make progress
        connection.wait_for(lambda f: f[0] == RST_STREAM and f[2] == stuck, seconds=10)
        assert connection.resets[stuck] in (CANCEL, 0)
        connection.ping()
        connection.close()
        with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        stuck_line = [line for line in metrics.splitlines() if line.startswith("eventlog_stuck_streams_closed_total")]
        assert stuck_line and float(stuck_line[0].split()[-1]) >= 1, stuck_line

        # A connection with no stream for the idle timeout is sent GOAWAY and closed.
        connection = H2Connection(url)
        started = time.time()
        connection.wait_for(lambda f: f is None or f[0] == GOAWAY, seconds=10)
        assert 1.5 <= time.time() - started < 8
        connection.wait_for(lambda f: f is None, seconds=5)  # closed without waiting for the client
        connection.close()
    finally:
        assert server.stop() == 0


def test_sighup_reloads_the_certificate_and_open_streams_survive(tmp_path):
    first_cert, first_key = make_certificate(tmp_path, "first", serial=1001)
    second_cert, second_key = make_certificate(tmp_path, "second", serial=1002)
    cafile = tmp_path / "both.crt"
    cafile.write_text(open(first_cert).read() + open(second_cert).read())
    live_cert, live_key = tmp_path / "live.crt", tmp_path / "live.key"
    shutil.copy(first_cert, live_cert)
    shutil.copy(first_key, live_key)
    log = tmp_path / "logd.log"
    config = tmp_path / "logd.conf"  # the TLS files named in the configuration file, as an operator would
    config.write_text("tls-certificate = %s\ntls-key = %s\n" % (live_cert, live_key))
    server = Logd(tmp_path / "data", ["--config", str(config)], stderr_path=log).start()
    url = server.url
    try:
        assert serial_of_new_connection(url, cafile) == "03E9"
        stream = HTTPSEventStream(url, cafile, "/v1/topics/renew/events?from=earliest")
        h2 = H2Connection(url, cafile=str(cafile))
        h2_stream = h2.request("GET", "/v1/topics/renew/events?from=earliest")
        h2.body_contains(h2_stream, "retry:")

        # The renewed files, moved into place as a deploy tool would, then SIGHUP.
        for source, target in ((second_cert, live_cert), (second_key, live_key)):
            shutil.copy(source, str(target) + ".new")
            os.replace(str(target) + ".new", target)
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while serial_of_new_connection(url, cafile) != "03EA":
            assert time.time() < deadline, "the new certificate was not served"
            time.sleep(0.1)

        # Both streams opened under the old certificate are still live.
        status, _ = https_json(url, str(cafile), "/v1/topics/renew/records", {"records": [{"value": "after reload"}]})
        assert status == 200
        assert stream.event_until(lambda value: value == "after reload")
        h2.body_contains(h2_stream, "after reload")

        # A bad file on reload: the certificate in use stays, one clear line says why.
        live_cert.write_text("not a certificate\n")
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "not reloaded" not in log.read_text():
            assert time.time() < deadline, log.read_text()
            time.sleep(0.1)
        lines = [line for line in log.read_text().splitlines() if "not reloaded" in line]
        assert len(lines) == 1, lines
        assert "previous one stays in use" in lines[0] and str(live_cert) in lines[0]
        assert serial_of_new_connection(url, cafile) == "03EA"
        assert server.proc.poll() is None
        h2.ping()

        # A key that does not go with the certificate is refused the same way.
        shutil.copy(second_cert, live_cert)
        shutil.copy(first_key, live_key)
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while len([line for line in log.read_text().splitlines() if "not reloaded" in line]) < 2:
            assert time.time() < deadline, log.read_text()
            time.sleep(0.1)
        assert serial_of_new_connection(url, cafile) == "03EA"
        stream.close()
        h2.close()
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("case", ["garbage certificate", "missing key", "key of another certificate", "certificate alone"])
def test_a_bad_certificate_at_start_is_a_clear_error(tmp_path, case):
    cert, key = make_certificate(tmp_path, "good", serial=7)
    other_cert, other_key = make_certificate(tmp_path, "other", serial=8)
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    args, named = {
        "garbage certificate": (["--tls-certificate", str(garbage), "--tls-key", key], str(garbage)),
        "missing key": (["--tls-certificate", cert, "--tls-key", str(tmp_path / "absent.key")], str(tmp_path / "absent.key")),
        "key of another certificate": (["--tls-certificate", cert, "--tls-key", other_key], other_key),
        "certificate alone": (["--tls-certificate", cert], "--tls-key"),
    }[case]
    data = tmp_path / "data"
    argv = [os.environ.get("LOGD_BIN", "logd"), "--data-dir", str(data), "--port", "0"] + args
    done = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    err = done.stderr.decode()
    assert done.returncode != 0
    assert named in err, err
    assert "logd listening" not in done.stdout.decode()
    for trace in ("Stack dump", "Fatal error", "Current stack trace", "backtrace"):
        assert trace not in err, err
    assert len(err.strip().splitlines()) <= 3, err
    assert not data.exists()  # nothing was opened


def test_over_the_connection_limit_an_http2_connection_is_answered_503_and_sent_goaway(tmp_path):
    server = Logd(tmp_path / "data", ["--max-connections", "1"]).start()
    url = server.url
    try:
        first = H2Connection(url)
        stream = first.request("GET", "/v1/topics/crowd/events?from=earliest")
        first.body_contains(stream, "retry:")
        second = H2Connection(url)
        refused = second.request("GET", "/v1/topics/crowd/records")
        second.body_contains(refused, "unavailable")
        # GOAWAY: the connection ends once its streams have (here, at once), not only this request.
        second.wait_for(lambda f: f is None or f[0] == GOAWAY)
        second.wait_for(lambda f: f is None)  # closed by the server
        second.close()
        time.sleep(0.2)  # the server counts the close
        # The connection within the limit goes on.
        producer = first.request("POST", "/v1/topics/crowd/records", [("content-type", "application/json")], end_stream=False)
        first.data(producer, json.dumps({"records": [{"value": "still here"}]}).encode(), end_stream=True)
        first.body_contains(stream, "still here")
        first.close()
    finally:
        assert server.stop() == 0


def test_sigterm_ends_http2_streams_with_goaway_and_exits_within_the_grace(tmp_path, certificate):
    cert, key = certificate
    server = Logd(tmp_path / "data", ["--tls-certificate", cert, "--tls-key", key, "--shutdown-grace-seconds", "10"]).start()
    connection = H2Connection(server.url, cafile=cert)
    streams = [connection.request("GET", "/v1/topics/bye/events?from=earliest") for _ in range(3)]
    for stream in streams:
        connection.body_contains(stream, "retry:")
    started = time.time()
    server.proc.send_signal(signal.SIGTERM)
    connection.wait_for(lambda f: f is None or all(s in connection.ended or s in connection.resets for s in streams))
    # GOAWAY, a PING this client answers, then the close once no stream is open.
    connection.wait_for(lambda f: f is None, seconds=15)
    assert connection.goaway is not None
    assert server.proc.wait(10) == 0
    assert time.time() - started < 8  # the streams ended at once, not at the grace's end
    connection.close()
