"""The native HTTP/2 + TLS SSE subscribers of `make bench-server` (Tools/bench-server/h2-subscribers,
`--h2-client native`) against a real logd over TLS: every event of every stream counted, in order,
latency sampled, stopped as soon as every stream has what it expects; a refused stream fails the
run with a clear message; the parser's self-test.

The client is a target of the package (`swift build --product h2-subscribers`); `make test` names
its debug build in $H2_SUBSCRIBERS_BIN, and without it the tests look for .build/debug, then
.build/release. They skip only when no build is there."""
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import Logd, make_certificate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tools", "bench-server"))
import sse_clients  # noqa: E402

BIN = os.environ.get("H2_SUBSCRIBERS_BIN") or next(
    (path for path in (os.path.join(ROOT, ".build", kind, "h2-subscribers") for kind in ("debug", "release"))
     if os.access(path, os.X_OK)), "h2-subscribers")


@pytest.fixture
def h2_subscribers():
    if not os.access(BIN, os.X_OK):
        pytest.skip("h2-subscribers is not built (swift build --product h2-subscribers)")
    return BIN


@pytest.fixture
def tls_logd(tmp_path):
    cert, key = make_certificate(tmp_path)
    server = Logd(tmp_path / "data", ["--tls-certificate", cert, "--tls-key", key]).start()
    body = json.dumps({"partitions": 1, "durability": "none"}).encode()
    urllib.request.urlopen(urllib.request.Request(server.url + "/v1/topics/bench", method="PUT", data=body,
                                                  headers={"Content-Type": "application/json"}),
                           timeout=30, context=sse_clients.tls_context("http/1.1"))
    yield server
    assert server.stop() == 0


def start(binary, url, ready, kind="logd", count=5, expect=30, sample_every=10, per_connection=3, stop_after=30):
    return subprocess.Popen([binary, "--kind", kind, "--url", url, "--count", str(count), "--expect", str(expect),
                             "--sample-every", str(sample_every), "--ready-path", str(ready),
                             "--stop-after", str(stop_after), "--streams-per-connection", str(per_connection)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(proc, ready, seconds=30):
    deadline = time.monotonic() + seconds
    while not os.path.exists(ready):
        assert proc.poll() is None, "h2-subscribers ended before ready: %s" % proc.communicate()[1]
        assert time.monotonic() < deadline, "h2-subscribers not ready within %d s" % seconds
        time.sleep(0.02)


def test_every_event_of_every_stream_counted_in_order_over_shared_connections(h2_subscribers, tls_logd, tmp_path):
    ready = tmp_path / "ready"
    proc = start(h2_subscribers, tls_logd.url, ready, count=5, expect=30, sample_every=10, per_connection=3)
    wait_ready(proc, ready)
    assert ready.read_text() == "ready"
    started = time.perf_counter()
    first, last = asyncio.run(sse_clients.publish("logd", tls_logd.url, 30, 200))
    out, err = proc.communicate(timeout=40)
    ended = time.perf_counter()
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert (summary["received"], summary["errors"], summary["incomplete"]) == (150, 0, 0)
    # Sequences 0, 10 and 20 of each of the 5 streams; each a real delay (publish to receive).
    assert len(summary["latencies_ns"]) == 15
    assert all(0 < latency < 10 * 10**9 for latency in summary["latencies_ns"])
    # CLOCK_MONOTONIC, as the publisher's time.perf_counter(): between the first publish and now.
    assert first <= summary["last_receive"] <= ended
    # Stopped once every stream had its 30 events, not at --stop-after (30 s).
    assert ended - started < 15
    assert 0 < summary["ready_cpu_seconds"] <= summary["cpu_seconds"]


def test_order_errors_and_incomplete_streams_are_counted(h2_subscribers, tls_logd, tmp_path):
    ready = tmp_path / "ready"
    proc = start(h2_subscribers, tls_logd.url, ready, count=2, expect=5, sample_every=0, per_connection=1, stop_after=3)
    wait_ready(proc, ready)

    target = sse_clients.Target("logd", tls_logd.url)
    for seq in [0, 1, 3, 4]:  # 2 missing: one order error per stream, and 4 events of 5
        request = urllib.request.Request(tls_logd.url + target.pub_path, method="POST", data=target.publish_body(seq),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30, context=sse_clients.tls_context("http/1.1")).read()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert (summary["received"], summary["errors"], summary["incomplete"], summary["latencies_ns"]) == (8, 2, 2, [])


def test_a_refused_stream_fails_the_run_with_its_status(h2_subscribers, tls_logd, tmp_path):
    ready = tmp_path / "ready"
    proc = start(h2_subscribers, tls_logd.url, ready, kind="nchan", count=3)  # logd has no /sub
    out, err = proc.communicate(timeout=40)
    assert proc.returncode != 0 and out == ""
    assert "stream refused over HTTP/2: status 404" in err
    assert not ready.exists()


def test_parser_self_test(h2_subscribers):
    done = subprocess.run([h2_subscribers, "--self-test"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "h2-subscribers self-test: ok", done.stderr
