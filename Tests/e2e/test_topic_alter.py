"""`PATCH /v1/topics/{topic}/config` against a real logd: retention, compaction and durability changed
after creation, used from then on, kept across a restart; bad input refused with nothing changed."""
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from conftest import Logd, call_json
from test_jwt import ADMIN, SECRET, jwt


def put(url, topic, settings, token=None):
    status, body = call_json(url, "PUT", "/v1/topics/" + topic, settings, token=token)
    assert status == 201, body
    return body


def patch(url, topic, settings, token=None):
    return call_json(url, "PATCH", "/v1/topics/%s/config" % topic, settings, token=token)


def produce_one(url, topic, value, key=None, timestamp=None):
    record = {"value": value}
    if key is not None:
        record["key"] = key
    if timestamp is not None:
        record["timestamp"] = timestamp
    status, body = call_json(url, "POST", "/v1/topics/%s/records" % topic, {"records": [record]})
    assert status == 200, body


def config(url, topic, token=None):
    status, body = call_json(url, "GET", "/v1/topics/" + topic, token=token)
    assert status == 200, body
    return body["config"]


def append_syncs(url, topic):
    """`eventlog_append_syncs{topic}`: the fdatasync(2) calls that acknowledged its appends."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r'^eventlog_append_syncs\{topic="%s"\} (\d+)' % re.escape(topic), text, re.M)
    assert m, "no eventlog_append_syncs for %s" % topic
    return int(m.group(1))


def test_a_lowered_retention_lets_the_next_cleaner_pass_delete_old_segments(logd):
    url = logd.url
    put(url, "aged", {"segment_bytes": 1024})
    old = int(time.time() * 1000) - 60_000
    for i in range(30):
        produce_one(url, "aged", "old %d %s" % (i, "o" * 150), timestamp=old)
    produce_one(url, "aged", "fresh")
    status, report = call_json(url, "POST", "/v1/topics/aged/retention")
    assert status == 200 and report["partitions"][0]["segments_deleted"] == 0, report

    status, described = patch(url, "aged", {"retention_ms": 1000})
    assert status == 200, described
    assert described["name"] == "aged" and described["config"]["retention_ms"] == 1000
    assert described["config"]["segment_bytes"] == 1024, "settings not given keep their values"
    status, report = call_json(url, "POST", "/v1/topics/aged/retention")
    assert status == 200, report
    deleted = report["partitions"][0]
    assert deleted["segments_deleted"] > 0 and deleted["start_offset"] > 0, deleted
    partition = call_json(url, "GET", "/v1/topics/aged")[1]["partitions"][0]
    assert partition["start_offset"] == deleted["start_offset"] and partition["end_offset"] == 31


def test_a_changed_durability_is_reported_and_used(logd):
    url = logd.url
    put(url, "dur", {"partitions": 1})
    produce_one(url, "dur", "synced")
    synced = append_syncs(url, "dur")
    assert synced >= 1

    status, described = patch(url, "dur", {"durability": "none"})
    assert status == 200 and described["config"]["durability"] == "none", described
    for i in range(10):
        produce_one(url, "dur", "unsynced %d" % i)
    assert append_syncs(url, "dur") == synced, "durability none: no sync per append"

    status, described = patch(url, "dur", {"durability": "interval", "durability_interval_ms": 250})
    assert status == 200, described
    assert described["config"]["durability"] == "interval" and described["config"]["durability_interval_ms"] == 250
    assert config(url, "dur")["durability_interval_ms"] == 250

    status, described = patch(url, "dur", {"durability": "fsync"})
    assert status == 200 and described["config"]["durability"] == "fsync"
    assert "durability_interval_ms" not in described["config"]
    produce_one(url, "dur", "synced again")
    assert append_syncs(url, "dur") > synced, "durability fsync: the append waited for a sync"


def test_compaction_turned_on_compacts(logd):
    url = logd.url
    put(url, "kv", {"segment_bytes": 1024})
    for rnd in range(30):
        status, body = call_json(url, "POST", "/v1/topics/kv/records",
                                 {"records": [{"key": "k%d" % k, "value": "r%d-k%d-%s" % (rnd, k, "v" * 20)} for k in range(5)]})
        assert status == 200, body
    status, body = call_json(url, "POST", "/v1/topics/kv/compact")
    assert status == 409 and body["error"] == "not_compacted"

    status, described = patch(url, "kv", {"cleanup_policy": "compact"})
    assert status == 200 and described["config"]["cleanup_policy"] == "compact", described
    status, report = call_json(url, "POST", "/v1/topics/kv/compact")
    assert status == 200 and report["partitions"][0]["records_removed"] > 0, report
    status, fetched = call_json(url, "GET", "/v1/topics/kv/records?partition=0&offset=0&limit=1000")
    assert status == 200, fetched
    records = fetched["records"]
    assert len(records) < 150
    latest = {}
    for r in records:
        latest[r["key"]] = r["value"]
    assert latest == {"k%d" % k: "r29-k%d-%s" % (k, "v" * 20) for k in range(5)}

    # Turned off again: what compaction left (offsets with gaps) stays readable.
    assert patch(url, "kv", {"cleanup_policy": "delete"})[0] == 200
    status, again = call_json(url, "GET", "/v1/topics/kv/records?partition=0&offset=0&limit=1000")
    assert status == 200 and [r["offset"] for r in again["records"]] == [r["offset"] for r in records]


def test_the_new_settings_survive_a_restart(tmp_path):
    srv = Logd(tmp_path / "data").start()
    try:
        put(srv.url, "kept", {"partitions": 2})
        produce_one(srv.url, "kept", "before")
        status, described = patch(srv.url, "kept", {"retention_ms": 7 * 86_400_000, "retention_bytes": 1 << 30,
                                                    "cleanup_policy": "compact,delete", "durability": "interval:500"})
        assert status == 200, described
        changed = described["config"]
        assert changed == {"partitions": 2, "cleanup_policy": "compact,delete", "retention_ms": 604800000,
                           "retention_bytes": 1073741824, "segment_bytes": 1073741824, "compression": "none",
                           "durability": "interval", "durability_interval_ms": 500}, changed
        assert srv.stop() == 0
        srv.start()
        assert config(srv.url, "kept") == changed
        partitions = call_json(srv.url, "GET", "/v1/topics/kept")[1]["partitions"]
        assert sum(p["end_offset"] for p in partitions) == 1
    finally:
        assert srv.stop() == 0


@pytest.mark.parametrize("body, status, error", [
    ({"retention_ms": -2}, 400, "invalid_config"),
    ({"retention_bytes": "1GB"}, 400, "invalid_config"),
    ({"retention_ms": 2 ** 63}, 400, "invalid_config"),
    ({"cleanup_policy": "sometimes"}, 400, "invalid_config"),
    ({"durability": "always"}, 400, "invalid_config"),
    ({"durability": "interval", "durability_interval_ms": 0}, 400, "invalid_config"),
    ({"durability_interval_ms": 250}, 400, "invalid_config"),
    ({"compression": "lz4"}, 409, "fixed_setting"),
    ({"segment_bytes": 4096}, 409, "fixed_setting"),
    ({"unknown_setting": 1}, 400, "invalid_config"),
    ([], 400, "invalid_config"),
    (b"{", 400, "invalid_json"),
    ({"partitions": 1}, 409, "fixed_setting"),
    ({"partitions": 3, "compression": "zstd"}, 409, "fixed_setting"),  # a refused change does not grow either
    ({"partitions": 10001}, 400, "invalid_config"),
    ({"partitions": 0}, 400, "invalid_config"),
    ({"retention_ms": 1000, "compression": "zstd"}, 409, "fixed_setting"),
])
def test_bad_input_is_refused_and_nothing_changes(logd, body, status, error):
    url = logd.url
    put(url, "strict", {"partitions": 2, "compression": "none", "retention_ms": 3_600_000})
    before = config(url, "strict")
    if isinstance(body, bytes):
        req = urllib.request.Request(url + "/v1/topics/strict/config", data=body, method="PATCH",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                answer = (r.status, json.loads(r.read()))
        except urllib.error.HTTPError as e:
            answer = (e.code, json.loads(e.read()))
    else:
        answer = patch(url, "strict", body)
    assert answer[0] == status and answer[1]["error"] == error, answer
    assert answer[1]["message"], answer
    assert config(url, "strict") == before


def test_unknown_and_internal_topics_and_same_values(logd):
    url = logd.url
    status, body = patch(url, "ghost", {"retention_ms": 1000})
    assert status == 404 and body["error"] == "topic_not_found"
    assert call_json(url, "GET", "/v1/topics/ghost")[0] == 404, "an alter never creates a topic"
    put(url, "same", {"partitions": 2, "compression": "zstd"})
    # A group commit makes the internal topic of the groups' commits.
    status, body = call_json(url, "POST", "/v1/groups/g/commits", {"offsets": [{"topic": "same", "partition": 0, "offset": 0}]})
    assert status == 204, body
    status, body = patch(url, "__consumer_offsets", {"cleanup_policy": "delete"})
    assert status == 403 and body["error"] == "forbidden", body
    # Settings equal to the topic's own, or none at all: 200, nothing to change.
    status, body = patch(url, "same", {"partitions": 2, "compression": "zstd", "segment_bytes": 1073741824})
    assert status == 200 and body["config"]["compression"] == "zstd", body
    status, body = call_json(url, "PATCH", "/v1/topics/same/config")
    assert status == 200 and body["name"] == "same"
    # The topic itself takes no PATCH (the shared conformance suite's "wrong method"): the
    # settings are changed at /config.
    status, body = call_json(url, "PATCH", "/v1/topics/same", {})
    assert status in (404, 405) and body["error"], body


def test_altering_needs_manage(tmp_path):
    secret_file = tmp_path / "jwt-secret"
    secret_file.write_text(SECRET + "\n")
    srv = Logd(tmp_path / "data", ["--jwt-secret-file", str(secret_file), "--auth-token", ADMIN]).start()
    try:
        put(srv.url, "orders", {"partitions": 1}, token=ADMIN)
        status, body = patch(srv.url, "orders", {"retention_ms": 1000})
        assert status == 401, body
        writer = jwt({"read": ["orders"], "write": ["orders"]})
        status, body = patch(srv.url, "orders", {"retention_ms": 1000}, token=writer)
        assert status == 403 and body["error"] == "forbidden", body
        assert config(srv.url, "orders", token=ADMIN)["retention_ms"] == -1, "a refused alter changes nothing"
        manager = jwt({"read": ["orders"], "manage": ["orders"]})
        status, body = patch(srv.url, "orders", {"retention_ms": 1000}, token=manager)
        assert status == 200 and body["config"]["retention_ms"] == 1000, body
    finally:
        assert srv.stop() == 0
