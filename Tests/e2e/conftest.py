"""Fixtures for logd's end-to-end tests: a real `logd` ($LOGD_BIN) on a free port."""
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest


def connect(url, rcvbuf=None):
    """A raw TCP connection to the server at `url` (nothing sent), with a small receive
    buffer when `rcvbuf` is given, for clients that misbehave on purpose."""
    u = urllib.parse.urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((u.hostname, u.port))
    return sock


def read_until_closed(sock, limit_seconds):
    """Everything the server sends until it closes; raises if it stays open past the limit."""
    sock.settimeout(limit_seconds)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def produce(url, topic, records):
    req = urllib.request.Request(
        "%s/v1/topics/%s/records" % (url, topic),
        data=json.dumps({"records": records}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


def call(url, method, path, body=None, token=None, headers=None, timeout=30):
    """One request to the server at `url`, with `body` as JSON when given and a bearer `token`
    when given: `(status, raw body)`, for an error status too (no exception)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def call_json(url, method, path, body=None, token=None, headers=None, timeout=30):
    """`call`, with the body parsed as JSON (`None` when empty; the raw bytes when it is not JSON)."""
    status, raw = call(url, method, path, body, token, headers, timeout)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


def heap_in_use_kib(url):
    """logd's C heap in use (`process_heap_in_use_bytes` of /metrics), in KiB: unlike resident
    memory, it does not count what the allocator keeps after a free."""
    status, raw = call(url, "GET", "/metrics")
    assert status == 200
    match = re.search(rb"^process_heap_in_use_bytes (\d+)", raw, re.M)
    assert match, "/metrics has no process_heap_in_use_bytes"
    return int(match.group(1)) // 1024


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_fds(pid):
    """How many file descriptors process `pid` has open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def process_rss_kib(pid):
    """The resident memory of process `pid` in KiB (`VmRSS`), 0 when it is not reported."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


LISTEN_RE = re.compile(r"^logd listening on (https?://\S+?)/?$")


def make_certificate(directory, name="server", serial=1, days=2):
    """A self-signed certificate for 127.0.0.1 and localhost (EC P-256) made with `openssl`:
    returns the paths of its PEM certificate and key, `<name>.crt` and `<name>.key`."""
    cert, key = os.path.join(str(directory), name + ".crt"), os.path.join(str(directory), name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", str(days), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-set_serial", str(serial)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return cert, key


class Logd:
    """Runs `$LOGD_BIN --data-dir D --port 0` and waits for its listening line; it can be
    killed with SIGKILL and started again on the same data directory and port."""

    def __init__(self, data_dir, extra_args=(), stderr_path=None):
        self.cmd = shlex.split(os.environ.get("LOGD_BIN", "logd"))
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.port = 0
        # The server's log goes here when given (tests that check what an operator sees).
        self.stderr_path = stderr_path
        self.proc = None
        self.url = None
        self._ready = threading.Event()

    @property
    def argv(self):
        return self.cmd + ["--data-dir", str(self.data_dir), "--port", str(self.port), "--host", "127.0.0.1"] + self.extra_args

    def start(self, timeout=60):
        """Starts it and waits for its listening line: on a free port the first time, on the
        same port again after `stop` or `kill9`."""
        self._ready.clear()
        stderr = open(self.stderr_path, "ab") if self.stderr_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        if self.stderr_path:
            stderr.close()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.proc.kill()
            raise AssertionError("logd did not start within %ss" % timeout)
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            self._line(raw.decode("utf-8", "replace").strip())

    def _line(self, line):
        """One line of standard output (subclasses look for more)."""
        m = LISTEN_RE.match(line)
        if m:
            self.url = m.group(1)
            self._ready.set()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)

    def kill9(self):
        """SIGKILL, and wait until the process is gone."""
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(20)


@pytest.fixture
def logd(tmp_path):
    server = Logd(tmp_path / "data").start()
    yield server
    assert server.stop() == 0
