"""`log-dump --json --records` and the HTTP API name a record the same way (Docs/LOG-DUMP.md,
"One record shape"): the members of a record fetched over HTTP are in log-dump's record line
with the same names and values, and every member name log-dump prints is snake_case."""
import base64
import json
import os
import re
import subprocess
import urllib.request

from conftest import produce

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# Objects whose member names are data (header names, codec names), not log-dump's own names.
DATA_OBJECTS = {"headers", "headers_b64", "codecs"}


def b64(data):
    return base64.b64encode(data).decode()


def post_raw(url, topic, body):
    req = urllib.request.Request("%s/v1/topics/%s/records?key=raw" % (url, topic), data=body, method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


def fetch_all(url, topic):
    with urllib.request.urlopen("%s/v1/topics/%s/records?offset=0&limit=100" % (url, topic), timeout=30) as r:
        return json.loads(r.read())["records"]


def log_dump(*args):
    run = subprocess.run([os.environ.get("LOG_DUMP_BIN", "log-dump")] + [str(a) for a in args],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def member_names(value, path=""):
    """Every member name in a JSON value, with where it is, data objects' own names left out."""
    if isinstance(value, dict):
        for name, member in value.items():
            yield path, name
            if name not in DATA_OBJECTS:
                yield from member_names(member, path + "." + name)
    elif isinstance(value, list):
        for member in value:
            yield from member_names(member, path + "[]")


def test_a_record_line_holds_the_http_record_and_every_name_is_snake_case(logd):
    url = logd.url
    urllib.request.urlopen(urllib.request.Request(url + "/v1/topics/shapes", method="PUT", data=b'{"partitions": 1}',
                                                  headers={"Content-Type": "application/json"}), timeout=30)
    produce(url, "shapes", [
        {"key": "order-1", "value": {"total": 12.5, "items": ["a"]}, "headers": {"type": "order.created"},
         "timestamp": 1700000000000},
        {"key_b64": b64(b"\xff\x00k"), "value_b64": b64(b"\xfe\x01\x80"), "headers": {"type": "bin"},
         "headers_b64": {"trace": b64(b"\xc3\x28")}, "timestamp": 1700000000001},
        {"key": "gone", "value": None, "timestamp": 1700000000002},
        {"value": "a JSON string"},
    ])
    post_raw(url, "shapes", "plain text, not JSON: é".encode())
    fetched = fetch_all(url, "shapes")
    assert len(fetched) == 5
    assert logd.stop() == 0

    lines = log_dump(logd.data_dir, "--records", "--json")
    records = {line["offset"]: line for line in lines if line["type"] == "record"}
    assert sorted(records) == [r["offset"] for r in fetched]
    for http in fetched:
        dumped = records[http["offset"]]
        for name, value in http.items():
            # Valid JSON on one line, which HTTP embeds, log-dump embeds the same (`value`).
            if name == "value_b64" and _is_utf8(base64.b64decode(value)):
                # Text that is not JSON: HTTP sends base64, log-dump the text itself.
                assert "value_b64" not in dumped, (http, dumped)
                assert dumped["value_text"] == base64.b64decode(value).decode(), (http, dumped)
            else:
                assert dumped.get(name, "<absent>") == value, "%s: HTTP %r, log-dump %r" % (name, value, dumped)
        extra = set(dumped) - set(http) - {"value_text"}
        assert extra == {"type", "topic", "file", "batch_position", "time"}, extra
        assert ("value_b64" in dumped) == ("value_b64" in http and not _is_utf8(base64.b64decode(http["value_b64"])))

    summary = lines[-1]
    assert summary["type"] == "summary" and summary["records_printed"] == 5
    document = log_dump(logd.data_dir, "--json", "--verify")
    for line in lines + document:
        for path, name in member_names(line):
            assert SNAKE_CASE.match(name), "%s in %s is not snake_case: %s" % (name, path or "the top level", line)


def _is_utf8(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
