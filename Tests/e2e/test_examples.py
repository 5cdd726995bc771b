"""The examples in Docs/examples, run as their READMEs say, against a real logd."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import Logd, free_port, produce

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EXAMPLES = os.path.join(ROOT, "Docs", "examples")


def test_python_consumer_reads_every_record_once_across_a_restart(tmp_path):
    data = tmp_path / "data"
    server = Logd(data, ["--retry-ms", "300"]).start()
    urllib.request.urlopen(urllib.request.Request(server.url + "/v1/topics/orders", method="PUT",
                                                  data=b'{"partitions": 2}', headers={"Content-Type": "application/json"}))
    for n in range(5):
        produce(server.url, "orders", [{"key": "k%d" % n, "value": {"n": n}}])
    consumer = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "python-consumer", "consumer.py"), "--url", server.url,
                                 "--topic", "orders", "--group", "billing", "--count", "10"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(consumer.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.time() + 30
        while len(lines) < 5 and time.time() < deadline:
            time.sleep(0.05)
        assert len(lines) == 5, lines
        server.kill9()
        server.start()  # the same port
        for n in range(5, 10):
            produce(server.url, "orders", [{"key": "k%d" % n, "value": {"n": n}}])
        assert consumer.wait(40) == 0, consumer.stderr.read()
        reader.join(5)
        records = [json.loads(line) for line in lines]
        assert sorted(r["value"]["n"] for r in records) == list(range(10))  # every one, once
        assert len({r["cursor"] for r in records}) == 10
        assert b"reconnecting" in consumer.stderr.read()
    finally:
        if consumer.poll() is None:
            consumer.kill()
        assert server.stop() == 0


def order_service(data, place):
    """Runs the order-service example as its README says (`swift run --package-path ...`)."""
    # The nested package's build plan keeps the list of the library's source files from its
    # last build; SwiftPM does not notice a file added to a path dependency. Without the plan
    # it scans the sources again (a clean clone has none).
    build = os.path.join(EXAMPLES, "order-service", ".build")
    for plan in ("debug.yaml", os.path.join("debug", "description.json")):
        if os.path.exists(os.path.join(build, plan)):
            os.remove(os.path.join(build, plan))
    done = subprocess.run(["swift", "run", "--package-path", os.path.join(EXAMPLES, "order-service"), "order-service",
                           str(data), str(place)], capture_output=True, timeout=900)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = done.stdout.decode().strip().split("\n")
    totals = dict(line.split("\t") for line in lines[1:])
    return lines[0], {customer: int(total) for customer, total in totals.items()}


def test_the_order_service_counts_every_order_once_across_runs(tmp_path):
    data = tmp_path / "orders-data"
    first, totals = order_service(data, 1000)
    assert first == "placed 1000 orders; the projection counted 1000 new ones"
    expected = {}
    for n in range(1000):
        expected["customer-%d" % (n % 10)] = expected.get("customer-%d" % (n % 10), 0) + 100 + n % 900
    assert totals == expected
    # A second run: 500 more; the group resumes at its commit and the totals come back from
    # the compacted topic.
    second, totals = order_service(data, 500)
    assert second == "placed 500 orders; the projection counted 500 new ones"
    for n in range(1000, 1500):
        expected["customer-%d" % (n % 10)] += 100 + n % 900
    assert totals == expected


def test_live_typing_in_two_browser_windows(tmp_path):
    selenium = pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    if shutil.which("chromedriver") is None:
        pytest.skip("chromium-driver is not installed (make deps-browser)")

    page_port = free_port()
    page_origin = "http://127.0.0.1:%d" % page_port
    httpd = ThreadingHTTPServer(("127.0.0.1", page_port),
                                partial(SimpleHTTPRequestHandler, directory=os.path.join(EXAMPLES, "live-typing")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = Logd(tmp_path / "data", ["--cors-origin", page_origin]).start()

    def window():
        options = Options()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
            options.add_argument(arg)
        if shutil.which("chromium"):
            options.binary_location = shutil.which("chromium")
        return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)

    alice, bob = window(), window()
    try:
        for browser, name in ((alice, "Alice"), (bob, "Bob")):
            browser.get(page_origin + "/?logd=" + server.url)
            deadline = time.time() + 20
            while "open" not in browser.find_element(By.ID, "state").text and time.time() < deadline:
                time.sleep(0.1)
            assert "open" in browser.find_element(By.ID, "state").text
            field = browser.find_element(By.ID, "name")
            field.clear()
            field.send_keys(name)
        alice.find_element(By.ID, "text").send_keys("hello")
        deadline = time.time() + 10
        while "Alice is typing" not in bob.find_element(By.ID, "typing").text and time.time() < deadline:
            time.sleep(0.1)
        assert bob.find_element(By.ID, "typing").text == "Alice is typing…"
        assert alice.find_element(By.ID, "typing").text == ""  # not one's own typing
        shots = os.environ.get("SCREENSHOT_DIR")
        if shots:
            bob.set_window_size(900, 500)
            bob.save_screenshot(os.path.join(shots, "live-typing.png"))
    finally:
        alice.quit()
        bob.quit()
        httpd.shutdown()
        assert server.stop() == 0
