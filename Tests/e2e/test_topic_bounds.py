"""What a client can make the server create or keep (issue 10, items 6, 15, 18 and 20):
reads never create topics, auto-creation is capped and needs `manage` when authentication
is on, a topic deleted while producers run loses nothing acknowledged after the delete, a
tombstone's expiry is the server's clock, a member's commit names its generation."""
import json
import threading
import time

from conftest import Logd, call_json
from test_jwt import jwt, open_stream
from test_websocket import WebSocket


def exists(url, topic, token=None):
    return call_json(url, "GET", "/v1/topics/" + topic, token=token)[0] == 200


def test_reads_never_create_topics(logd):
    url = logd.url
    status, body = call_json(url, "GET", "/v1/topics/ghost-fetch/records?partition=0&offset=0")
    assert status == 404 and body["error"] == "topic_not_found"
    status, body = call_json(url, "GET", "/v1/topics/ghost-poll/records?partition=0&offset=0&wait_ms=200")
    assert status == 404 and body["error"] == "topic_not_found"
    ws = WebSocket(url, "/v1/topics/ghost-ws/ws?cursor=-1")
    assert ws.status != 101, "a WebSocket on a missing topic is refused"
    ws.close()
    for name in ("ghost-fetch", "ghost-poll", "ghost-ws"):
        assert not exists(url, name), name
    # The contract keeps one exception: an event stream creates its topic when auto-creation
    # is on, so that subscribers may come before the first publisher.
    status, conn, resp = open_stream(url, "/v1/topics/early-subscriber/events")
    assert status == 200
    conn.close()
    assert exists(url, "early-subscriber")


def test_auto_creation_stops_at_the_topic_limit(tmp_path):
    srv = Logd(tmp_path / "data", ["--auto-create-max-topics", "3"]).start()
    try:
        url = srv.url
        assert call_json(url, "PUT", "/v1/topics/explicit", {"partitions": 1})[0] == 201
        answers = [call_json(url, "POST", "/v1/topics/auto-%d/records" % i, {"records": [{"value": i}]}) for i in range(4)]
        assert [a[0] for a in answers] == [200, 200, 404, 404], answers
        assert answers[2][1]["error"] == "topic_not_found"
        status, conn, resp = open_stream(url, "/v1/topics/auto-stream/events")
        assert status == 404 and json.loads(resp.read())["error"] == "topic_not_found"
        conn.close()
        assert not exists(url, "auto-2") and not exists(url, "auto-stream")
        # Explicit creation is not auto-creation: it is still allowed.
        assert call_json(url, "PUT", "/v1/topics/explicit-2", {"partitions": 1})[0] == 201
        listed = sorted(t["name"] for t in call_json(url, "GET", "/v1/topics")[1]["topics"])
        assert listed == ["auto-0", "auto-1", "explicit", "explicit-2"]
    finally:
        assert srv.stop() == 0


def test_auto_creation_with_authentication_needs_manage(tmp_path):
    secret_file = tmp_path / "jwt-secret"
    secret = "e2e-jwt-secret-" + "x" * 40
    secret_file.write_text(secret + "\n")
    srv = Logd(tmp_path / "data", ["--jwt-secret-file", str(secret_file)]).start()
    try:
        url = srv.url
        writer = jwt({"read": ["*"], "write": ["*"]})
        status, body = call_json(url, "POST", "/v1/topics/by-writer/records", {"records": [{"value": 1}]}, token=writer)
        assert status == 404 and body["error"] == "topic_not_found", (status, body)
        status, conn, resp = open_stream(url, "/v1/topics/by-reader/events?access_token=" + writer)
        assert status == 404
        conn.close()
        manager = jwt({"read": ["*"], "write": ["*"], "manage": ["made-*"]})
        assert call_json(url, "POST", "/v1/topics/made-here/records", {"records": [{"value": 1}]}, token=manager)[0] == 200
        assert call_json(url, "POST", "/v1/topics/other/records", {"records": [{"value": 1}]}, token=manager)[0] == 404
        assert exists(url, "made-here", manager) and not exists(url, "by-writer", manager)
        assert not exists(url, "by-reader", manager) and not exists(url, "other", manager)
    finally:
        assert srv.stop() == 0


def test_a_topic_deleted_while_producers_run_keeps_what_was_acknowledged_after(tmp_path):
    srv = Logd(tmp_path / "data").start()
    url = srv.url
    deleted = {"round": 0}
    acked_after = set()
    lock = threading.Lock()
    stop = threading.Event()

    def producer(n):
        i = 0
        while not stop.is_set():
            i += 1
            with lock:
                generation = deleted["round"]
            value = "p%d-%d" % (n, i)
            status, _ = call_json(url, "POST", "/v1/topics/churn/records", {"records": [{"value": value}]})
            if status == 200 and generation == 6:
                with lock:
                    acked_after.add(value)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        for r in range(1, 7):
            time.sleep(0.15)
            status, _ = call_json(url, "DELETE", "/v1/topics/churn")
            assert status in (204, 404)
            with lock:
                deleted["round"] = r
        time.sleep(0.4)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert srv.stop() == 0
    assert acked_after, "producers got nothing acknowledged after the last delete"
    again = Logd(tmp_path / "data").start()
    try:
        status, _ = call_json(again.url, "GET", "/v1/topics/churn")
        assert status == 200, "the re-created topic is gone after a restart"
        status, body = call_json(again.url, "GET", "/v1/topics/churn/records?partition=0&offset=0&limit=10000")
        stored = {r["value"] for r in body["records"]}
        lost = acked_after - stored
        assert not lost, "%d of %d acknowledged records lost" % (len(lost), len(acked_after))
    finally:
        assert again.stop() == 0


def test_a_tombstone_stamped_in_1970_survives_compaction(logd):
    url = logd.url
    assert call_json(url, "PUT", "/v1/topics/kv", {"partitions": 1, "cleanup_policy": "compact", "segment_bytes": 1024})[0] == 201
    assert call_json(url, "POST", "/v1/topics/kv/records", {"records": [{"key": "gone", "value": "v", "timestamp": 0}]})[0] == 200
    assert call_json(url, "POST", "/v1/topics/kv/records", {"records": [{"key": "gone", "timestamp": 0}]})[0] == 200
    for i in range(40):
        assert call_json(url, "POST", "/v1/topics/kv/records", {"records": [{"key": "f%d" % i, "value": "x" * 80}]})[0] == 200
    status, report = call_json(url, "POST", "/v1/topics/kv/compact")
    assert status == 200, report
    status, body = call_json(url, "GET", "/v1/topics/kv/records?partition=0&offset=0&limit=1000")
    gone = [r for r in body["records"] if r.get("key") == "gone"]
    assert len(gone) == 1 and gone[0]["value"] is None, "consumers must see the delete: %r" % gone


def test_a_members_commit_names_its_generation(logd):
    url = logd.url
    assert call_json(url, "PUT", "/v1/topics/t", {"partitions": 1})[0] == 201
    status, member = call_json(url, "POST", "/v1/groups/g/members", {"topics": ["t"], "session_timeout_ms": 30000})
    assert status == 200
    offsets = [{"topic": "t", "partition": 0, "offset": 0}]
    status, body = call_json(url, "POST", "/v1/groups/g/commits", {"offsets": offsets, "member_id": member["member_id"]})
    assert status == 400 and body["error"] == "invalid_argument", (status, body)
    status, _ = call_json(url, "POST", "/v1/groups/g/commits",
                     {"offsets": offsets, "member_id": member["member_id"], "generation": member["generation"]})
    assert status == 204
