"""logd.js in a real Chromium against a real logd: records arrive live, and after logd is
killed and restarted the page's EventSource reconnects by itself and shows what was produced
meanwhile exactly once, in order."""
import json
import os
import shutil
import ssl
import time
import urllib.request

import pytest

from conftest import Logd, make_certificate, produce

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
        browser.execute_script("window.sub.close()")
    finally:
        assert server.stop() == 0


def test_console_lists_topics_shows_live_events_and_produces(tmp_path, browser):
    server = Logd(tmp_path / "data", ["--retry-ms", "300"]).start()
    try:
        for name, partitions in (("orders", 3), ("audit", 1)):
            urllib.request.urlopen(urllib.request.Request(
                server.url + "/v1/topics/" + name, method="PUT", data=json.dumps({"partitions": partitions}).encode(),
                headers={"Content-Type": "application/json"}))
        produce(server.url, "orders", [{"key": "order-%d" % n, "value": {"order": n, "total": 10 + n}} for n in range(3)])

        browser.set_window_size(1280, 900)
        browser.get(server.url + "/console")
        names = wait_for(browser, "return [...document.querySelectorAll('#topics tr')].map(r => r.dataset.topic)",
                         lambda v: v and len(v) == 2, diagnose="return document.getElementById('topicsError').textContent + ' | ' + document.body.innerText.slice(0, 300)")
        assert names == ["audit", "orders"]
        browser.execute_script("document.querySelector('#topics tr[data-topic=orders]').click()")
        wait_for(browser, "return document.getElementById('state').textContent", lambda s: s == "open")
        assert "orders" in browser.execute_script("return document.getElementById('topicTitle').textContent")

        # Live: produced elsewhere, shown newest first.
        produce(server.url, "orders", [{"key": "order-7", "value": {"order": 7, "total": 99.5}}])
        rows = wait_for(browser, "return [...document.querySelectorAll('#tail tr')].map(r => r.innerText)",
                        lambda v: v and len(v) >= 1, diagnose="return [document.getElementById('tailCount').textContent, document.getElementById('state').textContent, document.getElementById('from').value]")
        assert '"total": 99.5' in rows[0]

        # The produce form.
        browser.execute_script("""
            const f = document.getElementById('produce');
            f.key.value = 'order-8'; f.type.value = 'order.created'; f.value.value = '{"order": 8, "total": 12.5}';
            f.requestSubmit();
        """)
        wait_for(browser, "return document.getElementById('produced').textContent", lambda s: "appended at partition" in s)
        rows = wait_for(browser, "return [...document.querySelectorAll('#tail tr')].map(r => r.innerText)",
                        lambda v: any("order.created" in r for r in v))
        assert any('"order": 8' in r for r in rows)

        # The alter form shows the topic's settings and changes them (PATCH /v1/topics/{topic}/config).
        assert browser.execute_script("return document.getElementById('alter').retention_ms.value") == "-1"
        browser.execute_script("""
            const f = document.getElementById('alter');
            f.retention_ms.value = '86400000'; f.cleanup_policy.value = 'compact,delete';
            f.durability.value = 'interval'; f.durability_interval_ms.value = '250';
            f.requestSubmit();
        """)
        wait_for(browser, "return document.getElementById('altered').textContent", lambda s: s == "saved",
                 diagnose="return document.getElementById('alterError').textContent")
        assert "retention_ms=86400000" in browser.execute_script("return document.getElementById('config').textContent")
        with urllib.request.urlopen(server.url + "/v1/topics/orders") as r:
            config = json.loads(r.read())["config"]
        assert (config["retention_ms"], config["cleanup_policy"], config["durability"], config["durability_interval_ms"]) == \
            (86400000, "compact,delete", "interval", 250), config
        shots = os.environ.get("SCREENSHOT_DIR")
        if shots:
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
