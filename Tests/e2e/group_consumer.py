"""One consumer of a logd consumer group, over HTTP (run by test_group_kill.py).

    python3 group_consumer.py URL GROUP TOPIC OUT_FILE

At-least-once: read a batch, "process" it (append `P <partition> <offset>` lines to OUT_FILE
and flush), then commit its positions (`C <partition> <next_offset>` once answered 204).
When the group rebalances (`409 rebalancing` on a read, `409 stale_generation` on a commit),
it heartbeats to learn the new generation, commits what it processed with that generation
(no member reads a moved partition before every member acknowledged the generation), then
acknowledges it with a second heartbeat. So only a member that dies leaves processed but
uncommitted records behind, and only those are delivered twice.
"""
import http.client
import json
import sys
import time
import urllib.parse

# A live member starved of CPU for longer than this loses its partitions, and what it processed
# but had not committed is then delivered twice (legitimately, but the test counts only the
# killed member's): 1 s was seen exceeded on a loaded 2-core machine.
SESSION_TIMEOUT_MS = 3000
BATCH = 100
WORK_SECONDS = 0.02  # per batch: slow enough that the kill and the restart happen mid-run


class Consumer:
    def __init__(self, url, group, topic, out):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.group, self.topic, self.out = group, topic, out
        self.member = None
        self.generation = None
        self.pending = {}  # processed, not yet committed: partition -> next offset

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, OSError):
                self.conn.close()
                if attempt == 2:
                    raise
                time.sleep(0.1)

    def gpath(self, rest):
        return "/v1/groups/%s%s" % (urllib.parse.quote(self.group, safe=""), rest)

    def join(self):
        status, body = self.call("POST", self.gpath("/members"),
                                 {"topics": [self.topic], "session_timeout_ms": SESSION_TIMEOUT_MS})
        assert status == 200, (status, body)
        self.member, self.generation = body["member_id"], body["generation"]
        self.pending = {}  # a new member owns nothing it processed before

    def heartbeat(self):
        return self.call("POST", self.gpath("/members/%s/heartbeat" % urllib.parse.quote(self.member, safe="")))

    def commit(self):
        if not self.pending:
            return True
        offsets = [{"topic": self.topic, "partition": p, "offset": o} for p, o in sorted(self.pending.items())]
        status, body = self.call("POST", self.gpath("/commits"),
                                 {"offsets": offsets, "member_id": self.member, "generation": self.generation})
        if status == 204:
            self.out.write("".join("C %d %d\n" % (p, o) for p, o in sorted(self.pending.items())))
            self.out.flush()
            self.pending = {}
            return True
        assert status in (409, 404), (status, body)
        return False

    def rebalance(self):
        """Learn the new generation, commit what was processed with it, acknowledge it."""
        while True:
            status, body = self.heartbeat()
            if status == 404:
                self.join()
                return
            assert status == 200, (status, body)
            if body["generation"] != self.generation:
                self.generation = body["generation"]
                self.commit()
                continue  # the next heartbeat acknowledges
            if not body["rebalancing"]:
                return
            time.sleep(0.02)

    def run(self):
        self.join()
        while True:
            status, body = self.call("GET", self.gpath("/records?" + urllib.parse.urlencode(
                {"member_id": self.member, "limit": BATCH, "wait_ms": 200})))
            if status == 409:
                self.rebalance()
                continue
            if status == 404:
                self.join()
                continue
            assert status == 200, (status, body)
            if body["records"]:
                self.out.write("".join("P %d %d\n" % (r["partition"], r["offset"]) for r in body["records"]))
                self.out.flush()
                time.sleep(WORK_SECONDS)
            for pos in body["positions"]:
                self.pending[pos["partition"]] = pos["next_offset"]
            if body["records"] and not self.commit():
                self.rebalance()


if __name__ == "__main__":
    url, group, topic, path = sys.argv[1:5]
    with open(path, "a", buffering=1) as out:
        Consumer(url, group, topic, out).run()
