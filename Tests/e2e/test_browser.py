"""logd.js in a real Chromium against a real logd: records arrive live, and after logd is
killed and restarted the page's EventSource reconnects by itself and shows what was produced
meanwhile exactly once, in order."""
import json
import os
import re
import shutil
import ssl
import time
import urllib.request

import pytest

from conftest import Logd, call_json, make_certificate, produce

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402


def chromium(extra_args=()):
    """A headless Chromium driven by chromium-driver, with `extra_args` on its command line."""
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromium-driver is not installed (make deps-browser)")
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu") + tuple(extra_args):
        options.add_argument(arg)
    binary = shutil.which("chromium")
    if binary:
        options.binary_location = binary
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(30)
    return driver


@pytest.fixture
def browser():
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, script, predicate, seconds=30, diagnose=None):
    deadline = time.time() + seconds
    value = None
    while time.time() < deadline:
        value = driver.execute_script(script)
        if predicate(value):
            return value
        time.sleep(0.1)
    raise AssertionError("timed out; last value: %r%s" % (value, "; " + repr(driver.execute_script(diagnose)) if diagnose else ""))


def test_page_sees_records_live_and_across_a_restart(tmp_path, browser):
    data = tmp_path / "data"
    server = Logd(data, ["--retry-ms", "300"]).start()
    try:
        with urllib.request.urlopen(server.url + "/logd.js") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/javascript")
            assert b"function subscribe" in r.read()
        assert urllib.request.urlopen(urllib.request.Request(
            server.url + "/v1/topics/chat", method="PUT", data=b'{"partitions": 2}',
            headers={"Content-Type": "application/json"})).status == 201

        # A page of logd's own origin that loads logd.js and subscribes.
        browser.get(server.url + "/healthz")
        browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const s = document.createElement("script");
            s.src = "/logd.js"; s.onload = () => done(true); document.head.appendChild(s);
        """)
        browser.execute_script("""
            window.got = []; window.states = [];
            window.sub = logd.subscribe("chat", {
                from: "earliest", types: ["note"],
                onRecord: r => window.got.push([r.partition, r.offset, r.type, r.value]),
                onState: s => window.states.push(s),
            });
        """)
        wait_for(browser, "return window.states", lambda s: "open" in s)

        # Produced from the page itself, then from outside.
        offsets = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            logd.produce("chat", [{key: "a", value: {n: 0}, headers: {type: "note"}}, {key: "b", value: "one"}])
                .then(done, e => done(String(e)));
        """)
        assert isinstance(offsets, list) and len(offsets) == 2, offsets
        for n in range(2, 6):
            produce(server.url, "chat", [{"key": "k%d" % n, "value": {"n": n}}])
        got = wait_for(browser, "return window.got", lambda g: len(g) >= 6)
        assert [r for r in got if r[2] == "note"] == [[offsets[0]["partition"], offsets[0]["offset"], "note", {"n": 0}]]

        # kill -9, records produced while the page is disconnected, restart on the same port.
        server.kill9()
        wait_for(browser, "return window.states", lambda s: "reconnecting" in s)
        server.start()  # the same port
        for n in range(6, 12):
            produce(server.url, "chat", [{"key": "k%d" % n, "value": {"n": n}}])
        got = wait_for(browser, "return window.got", lambda g: len(g) >= 12, seconds=40)
        time.sleep(1)  # anything repeated would arrive now
        got = browser.execute_script("return window.got")
        assert len(got) == 12, got
        positions = [(p, o) for p, o, _, _ in got]
        assert len(set(positions)) == 12  # exactly once
        for partition in (0, 1):
            mine = [o for p, o in positions if p == partition]
            assert mine == list(range(len(mine)))  # in order, no holes
        values = sorted(json.dumps(v) for _, _, _, v in got)
        assert values == sorted([json.dumps({"n": 0}), json.dumps("one")] + [json.dumps({"n": n}) for n in range(2, 12)])

        # The topic grows while the page listens: the new partition's record comes with its partition.
        status, _ = call_json(server.url, "PATCH", "/v1/topics/chat/config", {"partitions": 3})
        assert status == 200
        produce(server.url, "chat", [{"partition": 2, "value": {"n": 12}}])
        got = wait_for(browser, "return window.got", lambda g: len(g) >= 13)
        assert got[12] == [2, 0, None, {"n": 12}], got[12:]
        browser.execute_script("window.sub.close()")
    finally:
        assert server.stop() == 0


TAIL_CELLS = "return [...document.querySelectorAll('#tail tr:not(.notice)')].map(r => [...r.cells].map(c => c.innerText))"
TAIL_POSITIONS = "return [...document.querySelectorAll('#tail td[data-partition]')].map(c => [Number(c.dataset.partition), Number(c.dataset.offset)])"


def test_console_lists_topics_shows_live_events_and_produces(tmp_path, browser):
    server = Logd(tmp_path / "data", ["--retry-ms", "300"]).start()
    try:
        for name, partitions in (("orders", 3), ("audit", 1)):
            urllib.request.urlopen(urllib.request.Request(
                server.url + "/v1/topics/" + name, method="PUT", data=json.dumps({"partitions": partitions}).encode(),
                headers={"Content-Type": "application/json"}))
        produce(server.url, "orders", [{"key": "order-old", "value": "2020", "timestamp": 1600000000000}])
        produce(server.url, "orders", [{"key": "order-%d" % n, "value": {"order": n, "total": 10 + n}} for n in range(3)])

        browser.set_window_size(1280, 900)
        browser.get(server.url + "/console")
        names = wait_for(browser, "return [...document.querySelectorAll('#topics tr')].map(r => r.dataset.topic)",
                         lambda v: v and len(v) == 2, diagnose="return document.getElementById('topicsError').textContent + ' | ' + document.body.innerText.slice(0, 300)")
        assert names == ["audit", "orders"]
        browser.execute_script("document.querySelector('#topics tr[data-topic=orders]').click()")
        wait_for(browser, "return document.getElementById('state').textContent", lambda s: s == "open")
        assert "orders" in browser.execute_script("return document.getElementById('topicTitle').textContent")

        # Live: produced elsewhere, shown newest first, with partition/offset, time, key, type and value.
        produce(server.url, "orders", [{"key": "order-7", "value": {"order": 7, "total": 99.5}, "timestamp": 1796115600000}])
        rows = wait_for(browser, TAIL_CELLS, lambda v: v and len(v) >= 1,
                        diagnose="return [document.getElementById('tailCount').textContent, document.getElementById('state').textContent]")
        at, when, key, type_, value = rows[0]
        assert re.fullmatch(r"[0-2]/\d+", at) and when == "2026-12-01 09:00:00.000" and key == "order-7" and type_ == "", rows[0]
        assert '"total": 99.5' in value and "\n" in value, "the value is pretty-printed JSON: %r" % value

        # The produce form.
        browser.execute_script("""
            const f = document.getElementById('produce');
            f.key.value = 'order-8'; f.type.value = 'order.created'; f.value.value = '{"order": 8, "total": 12.5}';
            f.requestSubmit();
        """)
        wait_for(browser, "return document.getElementById('produced').textContent", lambda s: "appended at partition" in s)
        rows = wait_for(browser, TAIL_CELLS, lambda v: any(r[3] == "order.created" for r in v))
        assert any(r[2] == "order-8" and '"order": 8' in r[4] for r in rows), rows

        # Filter by key: only the matching records are shown from then on.
        browser.execute_script("""
            document.getElementById('filterField').value = 'key';
            const f = document.getElementById('filter'); f.value = 'order-9'; f.dispatchEvent(new Event('change'));
        """)
        wait_for(browser, "return document.getElementById('state').textContent", lambda s: s == "open")
        produce(server.url, "orders", [{"key": "order-10", "value": 10}, {"key": "order-9", "value": 9}])
        rows = wait_for(browser, TAIL_CELLS, lambda v: any(r[2] == "order-9" for r in v))
        time.sleep(0.5)
        assert not any(r[2] == "order-10" for r in browser.execute_script(TAIL_CELLS)), "filtered out"
        browser.execute_script("document.getElementById('filter').value = ''; document.getElementById('filterField').value = 'any';")

        # Resume from an offset: the tail starts again at offset 1 of every partition.
        expected, total = set(), 0
        with urllib.request.urlopen(server.url + "/v1/topics/orders") as r:
            for p in json.loads(r.read())["partitions"]:
                expected |= {(p["partition"], o) for o in range(1, p["end_offset"])}
                total += p["end_offset"]
        assert expected
        browser.execute_script("""
            document.getElementById('fromKind').value = 'offset'; document.getElementById('from').disabled = false;
            document.getElementById('from').value = '1'; document.getElementById('resume').requestSubmit();
        """)
        positions = wait_for(browser, TAIL_POSITIONS, lambda v: v is not None and len(v) >= len(expected))
        time.sleep(0.5)  # anything more (or repeated) would arrive now
        positions = browser.execute_script(TAIL_POSITIONS)
        assert sorted(map(tuple, positions)) == sorted(expected), positions

        # Resume from a time: only what was stamped at or after it.
        browser.execute_script("""
            document.getElementById('fromKind').value = 'time';
            document.getElementById('from').value = '2026-12-01T08:00:00Z'; document.getElementById('resume').requestSubmit();
        """)
        rows = wait_for(browser, TAIL_CELLS, lambda v: len(v) >= total - 1)
        time.sleep(0.5)
        keys = [r[2] for r in browser.execute_script(TAIL_CELLS)]
        # Everything but the record stamped in 2020, each once.
        assert "order-old" not in keys and "order-7" in keys and len(keys) == total - 1 == len(set(keys)), keys

        # The connection indicator counts reconnects: kill -9 and restart on the same port.
        server.kill9()
        wait_for(browser, "return document.getElementById('state').textContent", lambda s: s == "reconnecting")
        server.start()
        wait_for(browser, "return document.getElementById('state').textContent", lambda s: s == "open", seconds=40)
        assert re.fullmatch(r"\(\d+ reconnects?\)", browser.execute_script("return document.getElementById('reconnects').textContent"))

        # The alter form shows the topic's settings and changes them (PATCH /v1/topics/{topic}/config),
        # partitions included (they may only grow).
        assert browser.execute_script("return document.getElementById('alter').retention_ms.value") == "-1"
        assert browser.execute_script("return document.getElementById('alter').partitions.value") == "3"
        browser.execute_script("""
            const f = document.getElementById('alter');
            f.retention_ms.value = '86400000'; f.cleanup_policy.value = 'compact,delete';
            f.durability.value = 'interval'; f.durability_interval_ms.value = '250'; f.partitions.value = '4';
            f.requestSubmit();
        """)
        wait_for(browser, "return document.getElementById('altered').textContent", lambda s: s == "saved",
                 diagnose="return document.getElementById('alterError').textContent")
        assert "retention_ms=86400000" in browser.execute_script("return document.getElementById('config').textContent")
        with urllib.request.urlopen(server.url + "/v1/topics/orders") as r:
            config = json.loads(r.read())["config"]
        assert (config["retention_ms"], config["cleanup_policy"], config["durability"], config["durability_interval_ms"], config["partitions"]) == \
            (86400000, "compact,delete", "interval", 250, 4), config
        wait_for(browser, "return document.querySelectorAll('#partitions tr').length", lambda n: n == 4)

        # Consumer groups: listed; the chosen one's members, assignment, commits and lag with a sparkline.
        status, member = call_json(server.url, "POST", "/v1/groups/billing/members", {"topics": ["orders"]})
        assert status == 200, member
        status, _ = call_json(server.url, "POST", "/v1/groups/billing/commits",
                              {"offsets": [{"topic": "orders", "partition": 0, "offset": 1}]})
        assert status == 204
        wait_for(browser, "return [...document.querySelectorAll('#groups tr')].map(r => r.dataset.group)", lambda v: v == ["billing"])
        browser.execute_script("document.querySelector('#groups tr[data-group=billing]').click()")
        members = wait_for(browser, "return [...document.querySelectorAll('#members tr')].map(r => r.innerText)", lambda v: len(v) == 1)
        assert member["member_id"] in members[0] and "orders/0" in members[0], members
        samples = wait_for(browser, "return [...document.querySelectorAll('#lag tr')].map(r => [r.dataset.partition, r.cells[1].textContent, r.cells[2].textContent, Number(r.querySelector('svg').dataset.samples)])",
                           lambda v: v and all(s[3] >= 2 for s in v), seconds=15)
        assert ["orders/0", member["member_id"], "1"] == samples[0][:3], samples

        # Readable on a phone: nothing wider than the screen.
        browser.set_window_size(390, 844)
        time.sleep(0.3)
        overflow = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1] + 1, overflow
        browser.set_window_size(1280, 900)
        shots = os.environ.get("SCREENSHOT_DIR")
        if shots:
            browser.set_window_size(1280, 1500)  # the live tail too
            time.sleep(0.3)
            browser.save_screenshot(os.path.join(shots, "console.png"))
    finally:
        assert server.stop() == 0


def test_twenty_event_sources_on_one_page_over_http2_with_tls(tmp_path):
    """Browsers open at most 6 HTTP/1.1 connections per origin, so a page's 7th EventSource
    would wait; over HTTP/2 one connection carries them all. 20 streams from one page, all
    live: each receives a record produced after every one of them is open."""
    cert, key = make_certificate(tmp_path)
    server = Logd(tmp_path / "data", ["--tls-certificate", cert, "--tls-key", key]).start()
    driver = chromium(["--ignore-certificate-errors"])
    try:
        driver.get(server.url + "/healthz")
        assert driver.execute_script("return performance.getEntriesByType('navigation')[0].nextHopProtocol") == "h2"
        driver.execute_script("""
            window.opened = 0; window.got = {}; window.sources = [];
            for (let i = 0; i < 20; i++) {
                const source = new EventSource("/v1/topics/many/events?from=latest");
                source.onopen = () => { window.opened += 1; };
                source.onmessage = e => { (window.got[i] = window.got[i] || []).push(JSON.parse(e.data)); };
                window.sources.push(source);
            }
        """)
        wait_for(driver, "return window.opened", lambda n: n == 20,
                 diagnose="return window.sources.map(s => s.readyState)")
        # Every stream is open, so each started at the live end before this record.
        urllib.request.urlopen(urllib.request.Request(
            server.url + "/v1/topics/many/records", method="POST",
            data=json.dumps({"records": [{"value": "to all twenty"}]}).encode(),
            headers={"Content-Type": "application/json"}), context=ssl.create_default_context(cafile=cert), timeout=30)
        got = wait_for(driver, "return window.got", lambda g: len(g) == 20 and all(v == ["to all twenty"] for v in g.values()),
                       diagnose="return window.sources.map(s => s.readyState)")
        assert sorted(int(i) for i in got) == list(range(20))
        protocols = driver.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('/events')).map(e => e.nextHopProtocol)")
        assert all(p == "h2" for p in protocols), protocols
        driver.execute_script("window.sources.forEach(s => s.close())")
    finally:
        driver.quit()
        assert server.stop() == 0


def test_console_with_auth_on_asks_for_the_token_once(tmp_path, browser):
    """With --auth-token, the console's calls are refused until the token is typed; typed once,
    it lists topics, tails live records (EventSource with access_token) and produces, and a
    reload keeps it."""
    server = Logd(tmp_path / "data", ["--auth-token", "console-secret"]).start()
    try:
        status, _ = call_json(server.url, "PUT", "/v1/topics/private", {"partitions": 1}, token="console-secret")
        assert status == 201
        browser.set_window_size(1280, 900)
        browser.get(server.url + "/console")
        browser.execute_script("localStorage.clear()")
        browser.get(server.url + "/console")
        wait_for(browser, "return document.getElementById('topicsError').textContent", lambda s: "unauthorized" in s)
        browser.execute_script("""
            const t = document.getElementById('token'); t.value = 'console-secret'; t.dispatchEvent(new Event('change'));
        """)
        wait_for(browser, "return [...document.querySelectorAll('#topics tr')].map(r => r.dataset.topic)", lambda v: v == ["private"])
        browser.get(server.url + "/console")  # typed once: kept across a reload
        wait_for(browser, "return [...document.querySelectorAll('#topics tr')].map(r => r.dataset.topic)", lambda v: v == ["private"])
        browser.execute_script("document.querySelector('#topics tr[data-topic=private]').click()")
        wait_for(browser, "return document.getElementById('state').textContent", lambda s: s == "open")
        produce_status, _ = call_json(server.url, "POST", "/v1/topics/private/records", {"records": [{"key": "k1", "value": {"secret": 1}}]},
                                      token="console-secret")
        assert produce_status == 200
        rows = wait_for(browser, TAIL_CELLS, lambda v: len(v) == 1)
        assert rows[0][2] == "k1" and '"secret": 1' in rows[0][4], rows
        browser.execute_script("""
            const f = document.getElementById('produce'); f.key.value = 'k2'; f.value.value = '2'; f.requestSubmit();
        """)
        wait_for(browser, "return document.getElementById('produced').textContent", lambda s: "appended at partition 0, offset 1" in s,
                 diagnose="return document.getElementById('produceError').textContent")
        wait_for(browser, TAIL_CELLS, lambda v: len(v) == 2)
    finally:
        assert server.stop() == 0
