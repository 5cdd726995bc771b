"""A real event-stream client is cut off five times mid-stream while a producer appends
10,000 records; resuming by Last-Event-ID it receives every record exactly once, in order."""
import json
import threading
import time
import urllib.request

from conftest import produce
from sse_client import EventSourceConnection

TOTAL = 10_000
CUTS = 5


def test_five_disconnects_lose_and_repeat_nothing(logd):
    topic = "resume-%d" % int(time.time() * 1000)
    req = urllib.request.Request("%s/v1/topics/%s" % (logd.url, topic), method="PUT",
                                 data=b'{"partitions": 1, "durability": "none"}',
                                 headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(req, timeout=10).status == 201

    def producer():
        n = 0
        while n < TOTAL:
            batch = [{"value": {"n": n + i}} for i in range(min(100, TOTAL - n))]
            produce(logd.url, topic, batch)
            n += len(batch)
            time.sleep(0.005)

    th = threading.Thread(target=producer)
    th.start()

    received = []
    last_id = None
    cut_points = [TOTAL * (k + 1) // (CUTS + 1) for k in range(CUTS)]
    cuts = 0
    path = "/v1/topics/%s/events?from=earliest" % topic
    deadline = time.monotonic() + 120
    while len(received) < TOTAL and time.monotonic() < deadline:
        conn = EventSourceConnection(logd.url, path, last_id)
        try:
            for event_id, data in conn.events():
                if event_id is not None:
                    last_id = event_id
                if data is None:
                    continue
                value = json.loads(data)
                received.append(value["n"])
                assert event_id == str(value["n"]), (event_id, value)
                if cuts < CUTS and len(received) >= cut_points[cuts]:
                    cuts += 1
                    break
                if len(received) >= TOTAL:
                    break
        finally:
            conn.cut()
    th.join(60)
    assert cuts == CUTS
    assert received == list(range(TOTAL)), "lost or repeated records after %d cuts" % cuts
