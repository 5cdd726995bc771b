"""`logctl` end to end against a real logd: what a user types, what they get back."""
import os
import subprocess

import pytest

from conftest import Logd

LOGCTL = os.environ.get("LOGCTL_BIN", "logctl")


def logctl(server, *args, stdin=None, timeout=60):
    env = dict(os.environ, LOGD_URL=server.url)
    return subprocess.run([LOGCTL, *args], input=stdin, capture_output=True, timeout=timeout, env=env)


def test_ten_thousand_lines_produced_come_back_identical(logd):
    assert logctl(logd, "topics", "create", "lines", "--partitions", "1", "--retention", "7d").returncode == 0
    lines = ["line %d %s" % (n, "é" * (n % 5)) for n in range(10_000)]
    produced = logctl(logd, "produce", "lines", stdin="\n".join(lines).encode() + b"\n")
    assert produced.returncode == 0, produced.stderr
    assert b"appended 10000 records" in produced.stderr

    consumed = logctl(logd, "consume", "lines", "--from", "earliest", "--format", "value")
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.decode().split("\n")[:-1] == lines

    last = logctl(logd, "consume", "lines", "--from=-3", "--format", "value")
    assert last.stdout.decode().split("\n")[:-1] == lines[-3:]
    limited = logctl(logd, "consume", "lines", "--from", "500", "--limit", "1", "--format", "text")
    assert limited.stdout.decode() == "0\t500\t-\t%s\n" % lines[500]


def test_topics_keys_headers_offsets_and_groups(logd):
    assert logctl(logd, "topics", "create", "orders", "--partitions", "3", "--compression", "zstd").returncode == 0
    listed = logctl(logd, "topics", "list")
    assert b"orders\tpartitions=3\trecords=0" in listed.stdout
    out = logctl(logd, "produce", "orders", "--key", "order-42", "--type", "order.created", "--header", "source=test",
                 "--json", "--value", '{"total": 12.5}', "--print-offsets")
    assert out.returncode == 0, out.stderr
    partition, offset = out.stdout.decode().strip().split("@")
    assert offset == "0"
    described = logctl(logd, "topics", "describe", "orders").stdout.decode()
    assert "compression = zstd" in described and ("partition %s: start 0, end 1" % partition) in described
    consumed = logctl(logd, "consume", "orders", "--from", "earliest", "--format", "json").stdout.decode()
    assert '"type": "order.created"' in consumed and '"offset": 0' in consumed and "12.5" in consumed

    # A stream with a group commits what it delivered.
    assert logctl(logd, "consume", "orders", "--from", "earliest", "--group", "g1").returncode == 0
    import time
    deadline = time.time() + 10
    while time.time() < deadline:
        lag = logctl(logd, "groups", "lag", "g1")
        if lag.returncode == 0 and b"total lag 0" in lag.stdout:
            break
        time.sleep(0.2)
    assert b"total lag 0" in lag.stdout, lag
    commits = logctl(logd, "groups", "commits", "g1").stdout.decode()
    assert ("orders\t%s\t1" % partition) in commits

    assert logctl(logd, "topics", "delete", "orders").returncode == 0
    assert b"orders" not in logctl(logd, "topics", "list").stdout


@pytest.mark.parametrize("args, message", [
    (("topics", "describe", "nope"), b"topic_not_found"),
    (("topics", "delete", "nope"), b"404 topic_not_found"),
    (("topics", "create", "bad name!"), b"invalid_topic_name"),
    (("topics", "create", "x", "--partitions", "0"), b"--partitions must be 1...10000"),
    (("topics", "create", "x", "--retention", "soon"), b"is not a duration"),
    (("consume", "nope", "--from", "earliest"), b"topic_not_found"),
    (("consume", "lines2", "--from", "yesterday"), b"--from takes"),
    (("groups", "lag", "nobody"), b"group_not_found"),
    (("produce", "lines2", "--header", "novalue"), b"name=value"),
])
def test_errors_are_one_clear_line_and_a_nonzero_exit(logd, args, message):
    logctl(logd, "topics", "create", "lines2")
    result = logctl(logd, *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert b"Fatal error" not in result.stderr and b"Stack" not in result.stderr


def test_a_server_that_is_not_there_is_a_clear_error(tmp_path):
    result = subprocess.run([LOGCTL, "--help"], capture_output=True)
    assert result.returncode == 0 and b"logctl topics create" in result.stdout
    result = subprocess.run([LOGCTL, "topics", "list", "--url", "http://127.0.0.1:9"], capture_output=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(b"logctl: transport: No answer from logd")
