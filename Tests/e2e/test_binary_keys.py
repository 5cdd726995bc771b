"""Keys and header values that are not UTF-8 round-trip exactly over HTTP, never decoded
lossily: produced raw (`?key=%FF...&type=...`) or as JSON (`key_b64`, `headers_b64`), and
fetched back in `key_b64` / `headers_b64` (Docs/HTTP-API.md, "Conventions")."""
import base64
import json
import urllib.error
import urllib.parse
import urllib.request

KEY = bytes([0xFF, 0xFE, 0x00, 0x41, 0x80])     # not UTF-8
TYPE = bytes([0xC3, 0x28])                      # not UTF-8 either
HEADER = bytes([0x00, 0xE2, 0x82])              # a cut-off multi-byte sequence


def b64(data):
    return base64.b64encode(data).decode()


def post(url, body, content_type):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def fetch(url, topic):
    with urllib.request.urlopen("%s/v1/topics/%s/records?offset=0&limit=10" % (url, topic), timeout=30) as r:
        return json.loads(r.read())["records"]


def test_a_raw_produce_keeps_its_key_and_type_bytes(logd):
    url = "%s/v1/topics/rawbin/records?key=%s&type=%s" % (
        logd.url, urllib.parse.quote(KEY), urllib.parse.quote(TYPE))
    status, answer = post(url, b"payload", "application/octet-stream")
    assert status == 200 and answer["offsets"][0]["offset"] == 0
    [record] = fetch(logd.url, "rawbin")
    assert "key" not in record
    assert base64.b64decode(record["key_b64"]) == KEY
    assert record["headers"] == {}
    assert {k: base64.b64decode(v) for k, v in record["headers_b64"].items()} == {"type": TYPE}
    assert record["value_b64"] == b64(b"payload")


def test_a_json_produce_keeps_key_and_header_bytes(logd):
    body = {"records": [
        {"key_b64": b64(KEY), "value": {"n": 1}, "headers": {"trace": "t1"}, "headers_b64": {"bin": b64(HEADER)}},
        {"key": "plain", "value": "text", "headers": {"type": "note"}},
    ]}
    status, _ = post("%s/v1/topics/jsonbin/records" % logd.url, json.dumps(body).encode(), "application/json")
    assert status == 200
    binary, plain = fetch(logd.url, "jsonbin")
    assert base64.b64decode(binary["key_b64"]) == KEY and "key" not in binary
    assert binary["value"] == {"n": 1}
    assert binary["headers"] == {"trace": "t1"}
    assert {k: base64.b64decode(v) for k, v in binary["headers_b64"].items()} == {"bin": HEADER}
    # UTF-8 keys and headers stay strings, as before.
    assert plain["key"] == "plain" and "key_b64" not in plain
    assert plain["headers"] == {"type": "note"} and "headers_b64" not in plain


def test_bad_binary_fields_are_refused(logd):
    for record in ({"key": "k", "key_b64": b64(KEY), "value": 1},
                   {"key_b64": "not base64!", "value": 1},
                   {"headers_b64": {"h": "%%%"}, "value": 1},
                   {"headers_b64": {"h": 1}, "value": 1}):
        req = urllib.request.Request("%s/v1/topics/badbin/records" % logd.url, method="POST",
                                     data=json.dumps({"records": [record]}).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30)
            raise AssertionError("accepted %r" % record)
        except urllib.error.HTTPError as e:
            assert e.code == 400 and json.loads(e.read())["error"] == "invalid_record", record
