"""logd's listening socket (HTTPListener): it keeps the accept backlog it asks for, and its port
is its own (no `SO_REUSEPORT`: a second server on the port fails to start)."""
import subprocess

import pytest

from conftest import Logd, call


def listen_backlog(port):
    """The accept backlog of the socket listening on `port` (`ss` shows it as Send-Q)."""
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % port], capture_output=True, text=True, timeout=10).stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out  # one socket, whatever the number of event loops
    return int(lines[0][2])


def test_the_listening_socket_keeps_its_backlog_and_its_port_is_its_own(tmp_path):
    try:
        subprocess.run(["ss", "-V"], capture_output=True, timeout=10)
    except FileNotFoundError:
        pytest.skip("ss (iproute2) is not installed")
    with open("/proc/sys/net/core/somaxconn") as f:
        somaxconn = int(f.read())
    server = Logd(tmp_path / "data").start()
    try:
        # 4,096 asked for (ADR 0005), as far as the kernel allows: not NIO's 128 for a socket
        # it is given.
        assert listen_backlog(server.port) == min(4096, somaxconn)
        # A second server on the same port fails to start; the first goes on serving alone.
        other = Logd(tmp_path / "other")
        other.port = server.port
        second = subprocess.run(other.argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        assert second.returncode != 0
        assert b"listening on" not in second.stdout
        for _ in range(20):
            assert call(server.url, "GET", "/healthz")[0] == 200
    finally:
        assert server.stop() == 0
