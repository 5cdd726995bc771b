"""logd.js in a real Chromium against a real logd: records arrive live, and after logd is
killed and restarted the page's EventSource reconnects by itself and shows what was produced
meanwhile exactly once, in order."""
import json
import shutil
import time
import urllib.request

import pytest

from conftest import Logd, produce

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402


@pytest.fixture
def browser():
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromium-driver is not installed (make deps-browser)")
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    binary = shutil.which("chromium")
    if binary:
        options.binary_location = binary
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, script, predicate, seconds=30):
    deadline = time.time() + seconds
    value = None
    while time.time() < deadline:
        value = driver.execute_script(script)
        if predicate(value):
            return value
        time.sleep(0.1)
    raise AssertionError("timed out; last value: %r" % (value,))


def test_page_sees_records_live_and_across_a_restart(tmp_path, browser):
    data = tmp_path / "data"
    server = Logd(data, ["--retry-ms", "300"]).start()
    port = server.url.rsplit(":", 1)[1]
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
        server.proc.kill()
        server.proc.wait(10)
        wait_for(browser, "return window.states", lambda s: "reconnecting" in s)
        server = Logd(data, ["--retry-ms", "300", "--port", port]).start()
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
