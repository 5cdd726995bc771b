"""A topic's partitions grow with `PATCH /v1/topics/{topic}/config {"partitions": N}` against a
real logd: the new partitions take records at once, survive a restart, show up in an open event
stream and in the Kafka listener's Metadata; a cursor taken before the growth still resumes;
shrinking is refused with nothing changed."""
import base64
import json
import time

from conftest import call_json
from sse_client import EventSourceConnection
from test_kafka import KafkaLogd, kcat


def put(url, topic, settings):
    status, body = call_json(url, "PUT", "/v1/topics/" + topic, settings)
    assert status == 201, body


def grow(url, topic, partitions):
    return call_json(url, "PATCH", "/v1/topics/%s/config" % topic, {"partitions": partitions})


def produce_to(url, topic, partition, value):
    status, body = call_json(url, "POST", "/v1/topics/%s/records" % topic,
                             {"records": [{"value": value, "partition": partition}]})
    assert status == 200, body
    return body["offsets"][0]


def next_record(events, deadline_s=10):
    """The next (id, value) with data, within the deadline (the socket has a 10 s timeout)."""
    start = time.monotonic()
    for event_id, data in events:
        if data is not None:
            return event_id, json.loads(data)
        assert time.monotonic() - start < deadline_s, "no record in time"
    raise AssertionError("the stream ended")


def test_partitions_grow_take_records_survive_a_restart_and_never_shrink(tmp_path):
    server = KafkaLogd(tmp_path / "data", stderr_path=tmp_path / "logd.log").start()
    try:
        url = server.url
        put(url, "grow", {"partitions": 2, "retention_ms": 60000})
        produce_to(url, "grow", 1, "before")

        status, described = grow(url, "grow", 4)
        assert status == 200, described
        assert described["config"]["partitions"] == 4 and described["config"]["retention_ms"] == 60000
        assert [p["partition"] for p in described["partitions"]] == [0, 1, 2, 3]
        assert [p["end_offset"] for p in described["partitions"]] == [0, 1, 0, 0]
        assert produce_to(url, "grow", 3, "new") == {"partition": 3, "offset": 0}

        # The Kafka listener's Metadata reports the new count, and a Kafka client writes there.
        meta = json.loads(kcat(server, "-L", "-J", "-t", "grow").stdout)
        assert len(meta["topics"][0]["partitions"]) == 4, meta
        kcat(server, "-P", "-t", "grow", "-p", "2", stdin=b"from kafka\n")
        status, fetched = call_json(url, "GET", "/v1/topics/grow/records?partition=2&offset=0")
        assert status == 200 and [base64.b64decode(r["value_b64"]) for r in fetched["records"]] == [b"from kafka"], fetched

        for bad, code, words in [(3, 409, "cannot have fewer"), (1, 409, "cannot have fewer"), (10001, 400, "partitions")]:
            status, error = grow(url, "grow", bad)
            assert status == code, error
            assert error["error"] in ("fixed_setting", "invalid_config") and words in error["message"], error
        status, same = grow(url, "grow", 4)
        assert status == 200 and same["config"]["partitions"] == 4
        assert server.stop() == 0

        server = KafkaLogd(tmp_path / "data", stderr_path=tmp_path / "logd2.log").start()
        status, again = call_json(server.url, "GET", "/v1/topics/grow")
        assert status == 200 and again["config"]["partitions"] == 4
        assert [p["end_offset"] for p in again["partitions"]] == [0, 1, 1, 1]
    finally:
        server.stop()


def test_an_open_stream_picks_up_new_partitions_and_an_old_cursor_resumes(logd):
    url = logd.url
    put(url, "live", {"partitions": 2})
    produce_to(url, "live", 0, {"n": 0})
    stream = EventSourceConnection(url, "/v1/topics/live/events?from=earliest")
    events = stream.events()
    first_id, first = next_record(events)
    assert first == {"n": 0} and first_id == "0,-1"

    status, body = grow(url, "live", 3)
    assert status == 200, body
    produce_to(url, "live", 2, {"n": 1})
    grown_id, grown = next_record(events)
    assert grown == {"n": 1}, "the open stream delivers the new partition's record"
    assert grown_id == "0,-1,0", "its cursor names every partition now"
    produce_to(url, "live", 1, {"n": 2})
    assert next_record(events) == ("0,0,0", {"n": 2})
    stream.cut()

    # A cursor taken before the growth (2 partitions) resumes: the new partition from its start.
    old = EventSourceConnection(url, "/v1/topics/live/events", last_event_id=first_id)
    events = old.events()
    got = [next_record(events), next_record(events)]
    assert sorted(v["n"] for _, v in got) == [1, 2], got
    assert got[-1][0] == "0,0,0"
    old.cut()

    # A cursor with more partitions than the topic, or fewer than it was created with, is still refused.
    for bad in ["0,0,0,0", "0"]:
        status, error = call_json(url, "GET", "/v1/topics/live/events", headers={"Last-Event-ID": bad})
        assert status == 400 and error["error"] == "invalid_last_event_id", (bad, error)
    # A topic that never grew keeps the contract's exact count.
    put(url, "fixed3", {"partitions": 3})
    status, error = call_json(url, "GET", "/v1/topics/fixed3/events", headers={"Last-Event-ID": "1,1"})
    assert status == 400 and error["error"] == "invalid_last_event_id", error


def test_a_group_rebalances_onto_the_new_partitions_at_the_next_heartbeat(logd):
    url = logd.url
    put(url, "shared", {"partitions": 2})
    status, joined = call_json(url, "POST", "/v1/groups/workers/members", {"topics": ["shared"]})
    assert status == 200, joined
    assert sorted(a["partition"] for a in joined["assignment"]) == [0, 1]
    status, body = grow(url, "shared", 3)
    assert status == 200, body
    path = "/v1/groups/workers/members/%s/heartbeat" % joined["member_id"]
    status, beat = call_json(url, "POST", path)
    assert status == 200, beat
    assert beat["generation"] == joined["generation"] + 1, beat
    assert sorted(a["partition"] for a in beat["assignment"]) == [0, 1, 2], beat
