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


def test_topics_alter_changes_retention_compaction_and_durability(logd):
    assert logctl(logd, "topics", "create", "alt", "--partitions", "2").returncode == 0
    out = logctl(logd, "topics", "alter", "alt", "--retention", "7d", "--retention-bytes", "1048576", "--durability", "none")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "retention_ms = 604800000" in text and "retention_bytes = 1048576" in text and "durability = none" in text, text
    assert "partitions = 2" in text and "partition 1: start 0, end 0" in text

    compacted = logctl(logd, "topics", "alter", "alt", "--compact")
    assert compacted.returncode == 0 and b"cleanup_policy = compact\n" in compacted.stdout, compacted
    both = logctl(logd, "topics", "alter", "alt", "--cleanup-policy", "compact,delete", "--durability", "interval:250")
    assert b"cleanup_policy = compact,delete" in both.stdout and b"durability_interval_ms = 250" in both.stdout, both
    plain = logctl(logd, "topics", "alter", "alt", "--no-compact", "--retention", "forever", "--durability", "fsync")
    assert plain.returncode == 0, plain.stderr
    described = logctl(logd, "topics", "describe", "alt").stdout.decode()
    for line in ("cleanup_policy = delete", "retention_ms = -1", "retention_bytes = 1048576", "durability = fsync"):
        assert line in described, described

    grown = logctl(logd, "topics", "alter", "alt", "--partitions", "3")
    assert grown.returncode == 0, grown.stderr
    assert b"partitions = 3" in grown.stdout and b"partition 2: start 0, end 0" in grown.stdout, grown
    shrunk = logctl(logd, "topics", "alter", "alt", "--partitions", "2")
    assert shrunk.returncode != 0 and b"409 fixed_setting" in shrunk.stderr and b"cannot have fewer" in shrunk.stderr, shrunk
    assert b"Traceback" not in shrunk.stderr and b"Fatal error" not in shrunk.stderr


@pytest.mark.parametrize("args, message", [
    (("topics", "alter", "nope", "--retention", "1d"), b"404 topic_not_found"),
    (("topics", "alter", "lines2", "--retention", "soon"), b"is not a duration"),
    (("topics", "alter", "lines2"), b"Nothing to change"),
    (("topics", "alter", "lines2", "--durability", "always"), b"invalid_config"),
    (("topics", "alter", "lines2", "--compact", "--cleanup-policy", "delete"), b"not both"),
    (("topics", "alter", "lines2", "--retention-bytes=-7"), b"-1 or more"),
    (("topics", "alter", "lines2", "--partitions", "0"), b"--partitions must be 1...10000"),
    (("topics", "describe", "nope"), b"topic_not_found"),
    (("topics", "delete", "nope"), b"404 topic_not_found"),
    (("topics", "create", "bad name!"), b"invalid_topic_name"),
    (("topics", "create", "x", "--partitions", "0"), b"--partitions must be 1...10000"),
    (("topics", "create", "x", "--retention", "soon"), b"is not a duration"),
    (("consume", "nope", "--from", "earliest"), b"topic_not_found"),
    (("consume", "lines2", "--from", "yesterday"), b"--from takes"),
    (("groups", "lag", "nobody"), b"group_not_found"),
    (("groups", "describe", "nobody"), b"404 group_not_found"),
    (("groups", "delete", "nobody"), b"404 group_not_found"),
    (("groups", "commits", "nobody"), b"404 group_not_found"),
    (("groups", "reset", "nobody", "--topic", "nope", "--to", "earliest"), b"404 topic_not_found"),
    (("groups", "reset", "nobody", "--topic", "nope", "--to", "never"), b"--to takes"),
    (("produce", "bad!name", "--value", "x"), b"400 invalid_topic_name"),
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


def test_groups_list_describe_reset_by_time_and_delete(logd):
    import json
    import time
    import urllib.request

    def call(method, path, body=None):
        req = urllib.request.Request(logd.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, (json.loads(r.read() or b"null"))
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    import urllib.error
    assert call("PUT", "/v1/topics/events", {"partitions": 1})[0] == 201
    # Records stamped an hour apart: a reset by time lands on the first at or after it.
    base = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    status, _ = call("POST", "/v1/topics/events/records",
                     {"records": [{"value": n, "timestamp": base + n * 3_600_000} for n in range(5)]})
    assert status == 200

    status, joined = call("POST", "/v1/groups/g2/members", {"topics": ["events"], "session_timeout_ms": 10000})
    assert status == 200
    member = joined["member_id"]
    listed = logctl(logd, "groups", "list").stdout.decode()
    assert "g2\tstate=stable\tmembers=1" in listed
    described = logctl(logd, "groups", "describe", "g2").stdout.decode()
    assert ("member %s topics=events partitions=events/0" % member) in described

    refused = logctl(logd, "groups", "delete", "g2")
    assert refused.returncode == 1 and b"409 group_not_empty" in refused.stderr

    reset = logctl(logd, "groups", "reset", "g2", "--topic", "events", "--to", "time:2026-01-01T02:30:00Z")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.decode() == "events\t0\t3\n"  # 03:00 is the first at or after 02:30
    assert call("POST", "/v1/groups/g2/reset", {"topic": "events", "to": "time:2026-01-01T01:00:00+01:00"})[1] == \
        {"offsets": [{"topic": "events", "partition": 0, "offset": 0}]}
    assert call("POST", "/v1/groups/g2/reset", {"topic": "events", "to": "time:soon"})[0] == 400
    assert call("POST", "/v1/groups/g2/reset", {"topic": "events", "to": "latest", "partitions": [3]})[0] == 404
    assert logctl(logd, "groups", "reset", "g2", "--topic", "events", "--to", "latest").stdout.decode() == "events\t0\t5\n"
    assert "committed events/0 = 5" in logctl(logd, "groups", "describe", "g2").stdout.decode()

    assert call("DELETE", "/v1/groups/g2/members/" + member)[0] == 204
    assert logctl(logd, "groups", "delete", "g2").returncode == 0
    assert call("GET", "/v1/groups/g2")[0] == 404
    assert b"g2" not in logctl(logd, "groups", "list").stdout


def test_a_reset_to_a_time_the_server_cannot_read_is_its_clear_error(logd):
    logctl(logd, "topics", "create", "times")
    result = logctl(logd, "groups", "reset", "g9", "--topic", "times", "--to", "time:soon")
    assert result.returncode == 1
    assert b"400 invalid_argument" in result.stderr and b"ISO 8601" in result.stderr


def test_consume_from_a_time(logd):
    from conftest import produce
    assert logctl(logd, "topics", "create", "timed", "--partitions", "2").returncode == 0
    # Client timestamps: partition 0 has 1 s and 3 s, partition 1 only 1 s.
    produce(logd.url, "timed", [{"partition": 0, "value": "early-0", "timestamp": 1000},
                                {"partition": 1, "value": "early-1", "timestamp": 1000},
                                {"partition": 0, "value": "late-0", "timestamp": 3000}])
    late = logctl(logd, "consume", "timed", "--from", "time:1970-01-01T00:00:02Z", "--format", "value", timeout=30)
    assert late.returncode == 0, late.stderr
    assert late.stdout.decode() == '"late-0"\n'
    every = logctl(logd, "consume", "timed", "--from", "time:0", "--format", "value", timeout=30)
    assert sorted(every.stdout.decode().split()) == ['"early-0"', '"early-1"', '"late-0"']
    bad = logctl(logd, "consume", "timed", "--from", "time:tomorrow")
    assert bad.returncode != 0
    assert b"time:<ms or ISO 8601>" in bad.stderr, bad.stderr


def test_ctrl_c_on_a_group_consumer_leaves_the_group_at_what_it_printed(logd):
    """`logctl consume T --group G --follow`, interrupted with Ctrl-C (SIGINT) once it has
    printed every record: the group's commit is past the last record printed."""
    import signal
    import time
    assert logctl(logd, "topics", "create", "ctrlc").returncode == 0
    assert logctl(logd, "produce", "ctrlc", stdin=b"".join(b"line %d\n" % i for i in range(25))).returncode == 0
    env = dict(os.environ, LOGD_URL=logd.url)
    process = subprocess.Popen([LOGCTL, "consume", "ctrlc", "--group", "cc", "--follow", "--from", "earliest", "--format", "value"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        lines = [process.stdout.readline() for _ in range(25)]
        assert lines[-1] == b"line 24\n", lines
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.time() + 10
    while time.time() < deadline:
        commits = logctl(logd, "groups", "commits", "cc").stdout.decode()
        if "ctrlc\t0\t25" in commits:
            break
        time.sleep(0.2)
    assert "ctrlc\t0\t25" in commits, commits


def test_produce_stops_at_the_first_refused_batch_with_a_nonzero_exit(logd):
    """Batches of 2: the first is appended (its offsets printed), the second holds a line that is
    not JSON and is refused, naming the line, and nothing after it is sent."""
    assert logctl(logd, "topics", "create", "strict").returncode == 0
    out = logctl(logd, "produce", "strict", "--json", "--batch-size", "2", "--print-offsets",
                 stdin=b'1\n2\n3\n{"not json\n5\n6\n')
    assert out.returncode == 1, out
    assert out.stdout.decode().split() == ["0@0", "0@1"], out.stdout
    assert b"400 invalid_record: Line 4 is not one JSON value" in out.stderr and b"Traceback" not in out.stderr, out.stderr
    described = logctl(logd, "topics", "describe", "strict").stdout.decode()
    assert "partition 0: start 0, end 2" in described, described


def test_shell_completion_scripts_complete_the_subcommands(tmp_path):
    """The completion scripts argument-parser generates: bash's completes what a user types."""
    for shell in ("bash", "zsh", "fish"):
        p = subprocess.run([LOGCTL, "--generate-completion-script", shell], capture_output=True, timeout=30)
        assert p.returncode == 0 and b"logctl" in p.stdout, (shell, p.stderr[-300:])
    script = tmp_path / "logctl.bash"
    script.write_bytes(subprocess.run([LOGCTL, "--generate-completion-script", "bash"], capture_output=True,
                                      timeout=30, check=True).stdout)

    def complete(*words):
        line = " ".join(("logctl",) + words)
        probe = ('source "%s"; COMP_WORDS=(logctl %s); COMP_CWORD=%d; COMP_LINE="%s"; COMP_POINT=%d; '
                 '_logctl logctl "%s" "%s"; echo "${COMPREPLY[@]}"'
                 % (script, " ".join('"%s"' % w for w in words), len(words), line, len(line), words[-1],
                    words[-2] if len(words) > 1 else "logctl"))
        return subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30).stdout.split()

    assert complete("to") == ["topics"]
    assert {"list", "describe", "create", "alter", "delete"} <= set(complete("topics", ""))
    assert {"list", "describe", "lag", "reset", "delete"} <= set(complete("groups", ""))
