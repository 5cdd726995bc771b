"""Produce through logd's shortcut (Docs/adr/0006-produce-shortcut.md) and front lane (0008) against a real logd:
requests the shortcut answers and requests the router answers, pipelined on one connection,
keep their order, and every acknowledged record is stored once, in that order, whether the
topic's appends sync (answered from a task after the sync) or not (answered at once). The
shortcut's back-pressure for a client that reads nothing is tested in-process
(HTTP1ConnectionTests.shortcutAnswersWaitForAClientThatReadsNothing)."""
import json
import time

from conftest import call_json, connect
from test_limits import read_head


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


def raw_answer(sock):
    """One HTTP/1.1 answer's bytes (its body has Content-Length), with its Date line taken out."""
    head, rest = read_head(sock)
    head = head.encode()
    length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(65536)
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"date:")]
    assert len(lines) == len(head.split(b"\r\n")) - 1, head  # one Date
    return b"\r\n".join(lines) + b"\r\n\r\n" + rest[:length]


def test_the_front_lane_answers_byte_for_byte_as_the_decoder_path(logd):
    # A connection's first plain produce is answered in front of NIO's decoder (ADR 0008);
    # after another request, the same produce goes through the decoder. Same bytes, Date aside.
    for topic in ("lane", "decoder"):
        status, body = call_json(logd.url, "PUT", "/v1/topics/" + topic, {"partitions": 1, "durability": "none"})
        assert status == 201, body
    lane = connect(logd.url)
    lane.sendall(produce_request("lane", {"n": 1}))
    via_lane = raw_answer(lane)
    decoder = connect(logd.url)
    decoder.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    raw_answer(decoder)
    decoder.sendall(produce_request("decoder", {"n": 1}))
    via_decoder = raw_answer(decoder)
    assert via_lane == via_decoder
    assert via_lane.startswith(b"HTTP/1.1 200 OK\r\n"), via_lane
    for topic in ("lane", "decoder"):
        assert values(logd.url, topic, 0) == [{"n": 1}]
    # Answers of the router (a missing topic is created by it) after the lane, in order.
    lane.sendall(produce_request("lane", 2) + produce_request("made-by-the-router", 3) + produce_request("lane", 4))
    assert [a["offsets"] for _, a in read_answers(lane, 3)] == [[{"partition": 0, "offset": n}] for n in (1, 0, 2)]
    assert values(logd.url, "lane", 0) == [{"n": 1}, 2, 4]


def test_plain_produces_pipelined_split_and_mixed_are_each_stored_once_in_order(logd):
    for topic, durability in (("fast", "none"), ("synced", "fsync")):
        status, body = call_json(logd.url, "PUT", "/v1/topics/" + topic, {"partitions": 1, "durability": durability})
        assert status == 201, body
        sock = connect(logd.url)
        # A run the lane may answer, a request it leaves (another route), more produces for
        # the decoder, and one produce split across two sends.
        sock.sendall(b"".join(produce_request(topic, n) for n in range(50)))
        assert len(read_answers(sock, 50)) == 50
        sock.sendall(b"".join(produce_request(topic, n) for n in range(50, 60)) + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                     + b"".join(produce_request(topic, n) for n in range(60, 70)))
        answers = read_answers(sock, 21)
        assert [s for s, _ in answers] == [200] * 21
        split = produce_request(topic, 70)
        sock.sendall(split[:40])
        time.sleep(0.05)
        sock.sendall(split[40:])
        answers += read_answers(sock, 1)
        sock.close()
        offsets = [a["offsets"][0]["offset"] for _, a in answers if "offsets" in a]
        assert offsets == list(range(50, 71)), offsets
        assert values(logd.url, topic, 0) == list(range(71))


def test_concurrent_connections_produces_are_each_stored_once_at_the_offsets_answered(logd):
    """Many connections producing at once (their produces appended together per event-loop
    pass, Docs/adr/0012-produces-gathered-per-loop-pass.md): every answer names offsets no other
    answer names, and the topic holds exactly the records sent, each at its answered offset;
    under `none` and under `fsync`."""
    import threading
    for topic, durability in (("together", "none"), ("together-synced", "fsync")):
        status, body = call_json(logd.url, "PUT", "/v1/topics/" + topic, {"partitions": 1, "durability": durability})
        assert status == 201, body
        answered = {}
        errors = []
        lock = threading.Lock()

        def producer(n):
            try:
                sock = connect(logd.url)
                for i in range(40):
                    value = "c%d-%d" % (n, i)
                    sock.sendall(produce_request(topic, value))
                    ((status, answer),) = read_answers(sock, 1)
                    assert status == 200, answer
                    with lock:
                        answered[answer["offsets"][0]["offset"]] = value
                sock.close()
            except Exception as e:  # noqa: BLE001: reported below
                errors.append(e)

        threads = [threading.Thread(target=producer, args=(n,)) for n in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert len(answered) == 24 * 40, "two answers named the same offset"
        assert sorted(answered) == list(range(24 * 40))
        stored = values(logd.url, topic, 0)
        assert stored == [answered[offset] for offset in range(24 * 40)]


def test_sigkill_while_connections_produce_to_a_synced_topic_loses_no_acknowledged_record(tmp_path):
    """logd killed with SIGKILL three times while 16 connections produce to an `fsync` topic
    (plain produces, answered after their pass's group commit, Docs/adr/0012-produces-gathered-per-loop-pass.md):
    after each restart every record whose produce was answered is stored at the offset its
    answer named, and no two answers name the same offset."""
    import threading
    from conftest import Logd
    server = Logd(str(tmp_path / "data")).start()
    status, body = call_json(server.url, "PUT", "/v1/topics/killed", {"partitions": 1, "durability": "fsync"})
    assert status == 201, body
    answered = {}
    lock = threading.Lock()
    errors = []
    for round_ in range(3):

        def producer(n, url=server.url, round_=round_):
            try:
                sock = connect(url)
            except OSError:
                return
            i = 0
            while True:
                value = "r%d-c%d-%d" % (round_, n, i)
                try:
                    sock.sendall(produce_request("killed", value))
                    ((status, answer),) = read_answers(sock, 1)
                except (OSError, AssertionError, ValueError):
                    return  # killed under this connection: its last request has no answer
                if status == 200:
                    with lock:
                        offset = answer["offsets"][0]["offset"]
                        if offset in answered:
                            errors.append("offset %d answered twice" % offset)
                        answered[offset] = value
                i += 1

        threads = [threading.Thread(target=producer, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        time.sleep(0.5 + 0.5 * round_)
        server.kill9()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors
        server = Logd(str(tmp_path / "data")).start()
        assert answered, "nothing was answered before the kill"
        stored = {}
        offset = 0
        while True:
            status, body = call_json(server.url, "GET", "/v1/topics/killed/records?partition=0&offset=%d&limit=1000" % offset)
            assert status == 200, body
            for r in body["records"]:
                stored[r["offset"]] = r["value"]
            if not body["records"]:
                break
            offset = body["records"][-1]["offset"] + 1
        missing = [o for o, v in answered.items() if stored.get(o) != v]
        assert not missing, "acknowledged records lost or moved at offsets %s" % missing[:10]
    server.stop()
