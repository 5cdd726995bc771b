"""Produce through logd's shortcut (Docs/adr/0006-produce-shortcut.md) against a real logd:
requests the shortcut answers and requests the router answers, pipelined on one connection,
keep their order, and every acknowledged record is stored once, in that order, whether the
topic's appends sync (answered from a task after the sync) or not (answered at once). The
shortcut's back-pressure for a client that reads nothing is tested in-process
(HTTP1ConnectionTests.shortcutAnswersWaitForAClientThatReadsNothing)."""
import json

from conftest import call_json, connect


def read_answers(sock, count):
    """`count` HTTP/1.1 answers (status, body) read from `sock`; bodies have Content-Length."""
    data = b""
    answers = []
    while len(answers) < count:
        chunk = sock.recv(65536)
        assert chunk, "the connection ended after %d answers" % len(answers)
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            length = next(int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:"))
            if len(rest) < length:
                break
            answers.append((int(lines[0].split()[1]), json.loads(rest[:length])))
            data = rest[length:]
    return answers


def produce_request(topic, value, key=None, idempotency_key=None, query=""):
    body = json.dumps({"records": [{"value": value} if key is None else {"key": key, "value": value}]}).encode()
    extra = "Idempotency-Key: %s\r\n" % idempotency_key if idempotency_key else ""
    return ("POST /v1/topics/%s/records%s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n%s"
            "Content-Length: %d\r\n\r\n" % (topic, query, extra, len(body))).encode() + body


def values(url, topic, partition):
    status, body = call_json(url, "GET", "/v1/topics/%s/records?partition=%d&offset=0&limit=1000" % (topic, partition))
    assert status == 200, body
    return [r["value"] for r in body["records"]]


def test_pipelined_produces_answered_by_the_shortcut_and_the_router_keep_their_order(logd):
    for topic, durability in (("fast", "none"), ("synced", "fsync")):
        status, body = call_json(logd.url, "PUT", "/v1/topics/" + topic, {"partitions": 1, "durability": durability})
        assert status == 201, body
        sock = connect(logd.url)
        requests = b""
        for n in range(90):
            if n % 3 == 1:
                requests += produce_request(topic, n, idempotency_key="k-%d" % n)  # the router's
            elif n % 3 == 2:
                requests += produce_request(topic, n, query="?partition=0")  # the router's
            else:
                requests += produce_request(topic, n)  # the shortcut's
        sock.sendall(requests)
        answers = read_answers(sock, 90)
        sock.close()
        assert [status for status, _ in answers] == [200] * 90, answers[:3]
        assert [a["offsets"] for _, a in answers] == [[{"partition": 0, "offset": n}] for n in range(90)]
        assert values(logd.url, topic, 0) == list(range(90))
