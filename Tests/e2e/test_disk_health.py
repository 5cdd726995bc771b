"""/healthz while the disk is full, against a real logd on a small tmpfs: `503` with the
reason while appends fail for disk reasons, `200` again by itself once an append succeeds.
Reads and event streams keep working meanwhile, and nothing on the disk is corrupt."""
import json
import os
import subprocess

import pytest

from conftest import Logd, call
from sse_client import EventSourceConnection


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): " + result.stderr.strip())
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_healthz_reports_a_full_disk_and_recovers(small_disk):
    server = Logd(small_disk / "data", ["--default-segment-bytes", "65536", "--cleaner-interval-ms", "0"]).start()
    try:
        assert call(server.url, "GET", "/healthz")[0] == 200
        assert call(server.url, "PUT", "/v1/topics/keep", {"segment_bytes": 65536})[0] == 201
        assert call(server.url, "PUT", "/v1/topics/fill", {"segment_bytes": 65536})[0] == 201
        assert call(server.url, "POST", "/v1/topics/keep/records", {"records": [{"value": "k"}]})[0] == 200
        # A stream open before the disk fills.
        early = EventSourceConnection(server.url, "/v1/topics/keep/events?from=earliest")
        early_events = (e for e in early.events() if e[1] is not None)
        assert next(early_events) == ("0", '"k"')

        value = "x" * (32 << 10)
        for _ in range(400):
            status, body = call(server.url, "POST", "/v1/topics/fill/records", {"records": [{"value": value}]})
            if status != 200:
                break
        assert status == 507, (status, body)
        error = json.loads(body)
        assert error["error"] == "insufficient_storage"
        assert str(small_disk) not in error["message"], error  # no server path in an answer

        # Appends fail for a disk reason: not accepting writes, and why.
        status, body = call(server.url, "GET", "/healthz")
        assert status == 503, body
        health = json.loads(body)
        assert health["error"] == "not_accepting_writes" and health["reason"] == "disk_full", health
        assert "fill" in health["message"] and str(small_disk) not in health["message"], health
        # Reads still work meanwhile, and so do streams: a new one replays what is there.
        assert call(server.url, "GET", "/v1/topics/keep/records?offset=0")[0] == 200
        late = EventSourceConnection(server.url, "/v1/topics/fill/events?from=earliest")
        late_events = (e for e in late.events() if e[1] is not None)
        assert next(late_events)[0] == "0"
        late.cut()
        # Nothing on the full disk is corrupt.
        verify = subprocess.run([os.environ.get("LOG_DUMP_BIN", "log-dump"), str(small_disk / "data"), "--verify",
                                 "--allow-incomplete-tail", "--no-progress"], capture_output=True, text=True)
        assert verify.returncode == 0, verify.stdout[-3000:]

        # Another topic on the same full disk fails too; still unhealthy.
        status, _ = call(server.url, "POST", "/v1/topics/keep/records", {"records": [{"value": value}]})
        if status == 507:
            assert call(server.url, "GET", "/healthz")[0] == 503

        # Free space: delete the topic that filled the disk. The next append succeeds and
        # health recovers by itself, without a restart.
        assert call(server.url, "DELETE", "/v1/topics/fill")[0] == 204
        assert call(server.url, "POST", "/v1/topics/keep/records", {"records": [{"value": "after"}]})[0] == 200
        status, body = call(server.url, "GET", "/healthz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"
        # The stream opened before the disk filled goes on with the new record (after the
        # other topic's append, when that one fitted).
        assert any(data == '"after"' for _, data in early_events)
        early.cut()
    finally:
        assert server.stop() == 0
