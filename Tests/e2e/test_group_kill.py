"""Three consumer processes in one group process 100,000 records through a real logd while
one of them is killed with SIGKILL and restarted. At-least-once: every record is processed,
and the only records processed twice are ones the killed member processed after its last
commit (see group_consumer.py for the protocol each consumer follows)."""
import collections
import os
import signal
import subprocess
import sys
import time

from conftest import call_json

TOTAL = 100_000
PARTITIONS = 6
HERE = os.path.dirname(os.path.abspath(__file__))


def parse(path):
    """(processed list, last committed next-offset per partition) of one consumer's file."""
    processed, committed = [], {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3 or not line.endswith("\n"):
                continue  # a line cut by SIGKILL
            kind, p, o = parts[0], int(parts[1]), int(parts[2])
            if kind == "P":
                processed.append((p, o))
            else:
                committed[p] = max(committed.get(p, 0), o)
    return processed, committed


def distinct(paths):
    seen = set()
    for path in paths:
        if os.path.exists(path):
            seen.update(parse(path)[0])
    return len(seen)


def test_kill_one_of_three_consumers(logd, tmp_path):
    url, topic, group = logd.url, "orders", "billing"
    status, _ = call_json(url, "PUT", "/v1/topics/%s" % topic, {"partitions": PARTITIONS}, timeout=60)
    assert status == 201
    for start in range(0, TOTAL, 10_000):
        recs = [{"value": i, "partition": i % PARTITIONS} for i in range(start, start + 10_000)]
        assert call_json(url, "POST", "/v1/topics/%s/records" % topic, {"records": recs}, timeout=60)[0] == 200

    def spawn(name):
        path = str(tmp_path / (name + ".log"))
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "group_consumer.py"), url, group, topic, path],
                                stdin=subprocess.DEVNULL, stderr=open(str(tmp_path / (name + ".err")), "w"))
        return proc, path

    procs = {name: spawn(name) for name in ("a", "b", "c0")}
    paths = [p for _, p in procs.values()]
    try:
        deadline = time.monotonic() + 60
        while distinct(paths) < 20_000:
            assert time.monotonic() < deadline, "the consumers made no progress"
            for name, (proc, _) in procs.items():
                assert proc.poll() is None, "consumer %s exited: %s" % (name, open(str(tmp_path / (name + ".err"))).read())
            time.sleep(0.05)
        victim, victim_path = procs["c0"]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        time.sleep(3.5)  # past its session timeout (group_consumer.py): the others take its partitions
        procs["c1"] = spawn("c1")
        paths.append(procs["c1"][1])

        deadline = time.monotonic() + 120
        while True:
            status, lag = call_json(url, "GET", "/v1/groups/%s/lag" % group, timeout=60)
            behind = sum(p["lag"] for p in lag["partitions"])
            if distinct(paths) == TOTAL and len(lag["partitions"]) == PARTITIONS and behind == 0:
                break
            assert time.monotonic() < deadline, "not done: %d distinct, lag %d" % (distinct(paths), behind)
            for name, (proc, _) in procs.items():
                if name != "c0":
                    assert proc.poll() is None, "consumer %s exited: %s" % (name, open(str(tmp_path / (name + ".err"))).read())
            time.sleep(0.2)
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    counts = collections.Counter()
    for path in paths:
        counts.update(parse(path)[0])
    expected = {(i % PARTITIONS, i // PARTITIONS) for i in range(TOTAL)}
    assert set(counts) == expected, "records never processed: %d" % len(expected - set(counts))

    victim_processed, victim_committed = parse(victim_path)
    uncommitted = {(p, o) for p, o in victim_processed if o >= victim_committed.get(p, 0)}
    duplicates = {key for key, n in counts.items() if n > 1}
    assert duplicates <= uncommitted, "records processed twice that the killed member had committed or never had: %r" % (
        sorted(duplicates - uncommitted)[:10],)
    assert max(counts.values()) <= 2
    print("processed %d records, %d twice; the killed member processed %d, %d of them after its last commit"
          % (sum(counts.values()), len(duplicates), len(victim_processed), len(uncommitted)))
