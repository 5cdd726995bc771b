"""Idempotency-Key against a real logd: a key is bound to its caller and to the request's body,
and a repeat gets exactly the first answer, also after a restart."""

from conftest import Logd, call, call_json


def post(url, topic, body, key, token=None):
    return call_json(url, "POST", "/v1/topics/%s/records" % topic, body, token, {"Idempotency-Key": key}, timeout=15)


def get(url, path, token=None):
    status, body = call_json(url, "GET", path, token=token, timeout=15)
    assert status == 200, body
    return body


def end_offsets(url, topic, token=None):
    return [p["end_offset"] for p in get(url, "/v1/topics/" + topic, token)["partitions"]]


def values(url, topic, partition, token=None):
    body = get(url, "/v1/topics/%s/records?partition=%d&offset=0&limit=1000" % (topic, partition), token)
    return [r["value"] for r in body["records"]]


def test_same_key_with_another_body_is_409_and_writes_nothing(logd):
    first = {"records": [{"value": {"n": 1}}, {"value": {"n": 2}}]}
    status, answer = post(logd.url, "t", first, "key-1")
    assert status == 200, answer
    status, again = post(logd.url, "t", first, "key-1")
    assert (status, again) == (200, answer)

    status, error = post(logd.url, "t", {"records": [{"value": {"n": 3}}]}, "key-1")
    assert status == 409, error
    assert error["error"] == "idempotency_key_reused", error
    assert "Idempotency-Key" in error["message"]
    assert values(logd.url, "t", 0) == [{"n": 1}, {"n": 2}]


def test_a_key_belongs_to_its_caller(tmp_path):
    server = Logd(tmp_path / "data", ["--auth-token", "token-a", "--auth-token", "token-b"]).start()
    try:
        body = {"records": [{"value": "from a"}]}
        status, answer_a = post(server.url, "t", body, "shared-key", token="token-a")
        assert status == 200 and answer_a == {"offsets": [{"partition": 0, "offset": 0}]}, answer_a
        # Another caller with the same key: its own request, appended; not caller A's answer.
        status, answer_b = post(server.url, "t", {"records": [{"value": "from b"}]}, "shared-key", token="token-b")
        assert status == 200 and answer_b == {"offsets": [{"partition": 0, "offset": 1}]}, answer_b
        # Each caller's repeat gets its own first answer.
        assert post(server.url, "t", body, "shared-key", token="token-a") == (200, answer_a)
        assert post(server.url, "t", {"records": [{"value": "from b"}]}, "shared-key", token="token-b") == (200, answer_b)
        assert values(server.url, "t", 0, token="token-a") == ["from a", "from b"]
    finally:
        assert server.stop() == 0


def test_a_key_survives_a_restart(tmp_path):
    data_dir = tmp_path / "data"
    server = Logd(data_dir).start()
    # Three partitions; keyed records spread by their key, keyless ones go to one partition.
    body = {"records": [{"key": "k%d" % i, "value": i} for i in range(8)] + [{"value": "keyless-%d" % i} for i in range(3)]}
    try:
        assert call(server.url, "PUT", "/v1/topics/orders", {"partitions": 3}, timeout=15)[0] == 201
        assert call(server.url, "POST", "/v1/topics/orders/records", {"records": [{"value": "before"}]}, timeout=15)[0] == 200
        status, answer = post(server.url, "orders", body, "order-42")
        assert status == 200, answer
        ends = end_offsets(server.url, "orders")
    finally:
        assert server.stop() == 0

    server = Logd(data_dir).start()
    try:
        # The same request after a restart: exactly the first answer, nothing appended.
        status, again = post(server.url, "orders", body, "order-42")
        assert (status, again) == (200, answer)
        assert end_offsets(server.url, "orders") == ends
        # The same key with another body, after the restart: 409, nothing appended anywhere.
        other = {"records": [{"key": "k%d" % i, "value": i} for i in range(9)]}
        status, error = post(server.url, "orders", other, "order-42")
        assert status == 409 and error["error"] == "idempotency_key_reused", error
        assert end_offsets(server.url, "orders") == ends
    finally:
        assert server.stop() == 0
