"""A/B of logd builds on single-record produces: logd's CPU per request and its requests/s
under the bench's wrk load (`wrk -t2 -c50`, the `produce` scenario's request, 1 record per
request), for A/B comparisons of builds on one machine. No Redis: this is not
`make bench-server`.

    python3 Tools/bench-server/produce_cpu_ab.py ROUNDS SECONDS none|fsync BIN_A BIN_B [BIN_C ...]

Each round starts every binary in turn on a fresh data directory and port (the order reversed
every other round), warms it with 1 s of load, then runs SECONDS of wrk and reads logd's user +
system time from /proc/<pid>/stat before and after. Prints one line per run and the medians.
Under fsync it also prints the appends per sync (from `eventlog_append_syncs` on /metrics),
the group commit's average group. Every load is bounded (SECONDS + 1 s per run) and goes to
127.0.0.1."""
import os
import re
import statistics
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_server  # noqa: E402


def cpu_ticks(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def append_syncs(server):
    """The topic's syncs so far, or 0 when the metric is not there yet (none durability)."""
    text = urllib.request.urlopen(server.url + "/metrics", timeout=10).read().decode()
    match = re.search(r'^eventlog_append_syncs\{topic="bench"\} (\d+)', text, re.M)
    return int(match.group(1)) if match else 0


def main():
    rounds, seconds, durability = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    binaries = sys.argv[4:]
    hz = os.sysconf("SC_CLK_TCK")
    results = {b: [] for b in binaries}
    work = tempfile.mkdtemp(prefix="produce-ab-")
    for r in range(rounds):
        for binary in (binaries if r % 2 == 0 else list(reversed(binaries))):
            server = bench_server.start_logd(binary, work, durability=durability)
            try:
                bench_server.wrk_produce(server, 1, 1)
                before, syncs_before = cpu_ticks(server.proc.pid), append_syncs(server)
                out = bench_server.wrk_produce(server, 1, seconds)
                after, syncs_after = cpu_ticks(server.proc.pid), append_syncs(server)
            finally:
                server.stop()
            rps = out["records_per_s"]
            us = 1e6 * (after - before) / hz / (rps * seconds)
            syncs = syncs_after - syncs_before
            per_sync = "  %5.1f appends per sync" % (rps * seconds / syncs) if syncs else ""
            results[binary].append((rps, us))
            print("%-40s %8.0f requests/s  %6.1f µs CPU per request%s  non-2xx %d  load %.1f"
                  % (binary, rps, us, per_sync, out["non_2xx"], os.getloadavg()[0]), flush=True)
    for binary in binaries:
        print("%-40s median %8.0f requests/s  median %6.1f µs CPU per request"
              % (binary, statistics.median(x[0] for x in results[binary]), statistics.median(x[1] for x in results[binary])))


if __name__ == "__main__":
    main()
