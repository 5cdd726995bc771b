"""Fixtures for logd's end-to-end tests: a real `logd` ($LOGD_BIN) on a free port."""
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import json
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


def produce(url, topic, records):
    req = urllib.request.Request(
        "%s/v1/topics/%s/records" % (url, topic),
        data=json.dumps({"records": records}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200

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
    """Runs `$LOGD_BIN --data-dir D --port 0` and waits for its listening line."""

    def __init__(self, data_dir, extra_args=(), stderr_path=None):
        cmd = shlex.split(os.environ.get("LOGD_BIN", "logd"))
        self.argv = cmd + ["--data-dir", str(data_dir), "--port", "0", "--host", "127.0.0.1"] + list(extra_args)
        # The server's log goes here when given (tests that check what an operator sees).
        self.stderr_path = stderr_path
        self.proc = None
        self.url = None
        self._ready = threading.Event()

    def start(self, timeout=60):
        stderr = open(self.stderr_path, "ab") if self.stderr_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        if self.stderr_path:
            stderr.close()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.proc.kill()
            raise AssertionError("logd did not start within %ss" % timeout)
        return self

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            m = LISTEN_RE.match(raw.decode("utf-8", "replace").strip())
            if m:
                self.url = m.group(1)
                self._ready.set()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)


@pytest.fixture
def logd(tmp_path):
    server = Logd(tmp_path / "data").start()
    yield server
    assert server.stop() == 0
