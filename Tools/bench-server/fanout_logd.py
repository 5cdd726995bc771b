"""One fan-out run against logd alone, with the harness's own code (bench_server.fanout), for
A/B comparisons of two builds on one machine: run it for each build in turn, several rounds.

    python3 Tools/bench-server/fanout_logd.py .build/release/logd burst|paced [SUBSCRIBERS] [h2|http/1.1] [native|python]

burst: 2,000 messages as fast as one publisher can; paced: 2,000 at 200/s. logd serves HTTPS
(a certificate made here) and the subscribers speak `h2` (or HTTP/1.1 over TLS). The HTTP/2
subscribers are the native client, h2-subscribers, as in `make bench-server` (its release build
.build/release/h2-subscribers, or the one $H2_SUBSCRIBERS_BIN names), or `python`, the
`h2` package's. Prints one JSON line: bench_server.fanout's figures, plus
  client_cpu_ms_per_1k   the subscriber processes' CPU (user + system) per 1,000 deliveries
  events_per_read        events per DATA frame (per socket read over HTTP/1.1): the hub's batching
                         (null with the native client, which does not count its frames)
  publish_rtt_p50/p90_ms the publisher's round trips
  live_fanout_series     eventlog_live_fanout_streams, scraped every 0.5 s
  server_writes          logd's write(2)/writev(2) calls from the first publish on (/proc/PID/io
                         syscw): one per member a step is written to, one per publish answered
  server_cpu_us_per_write logd's CPU per such call: the cost of one member's write, whatever
                         the number of events per step (which the latency changes)
With $FANOUT_PERF set to a file name, `perf record -F 999 -g` samples logd while the publisher
publishes, into that file. No Nchan: this is not `make bench-server`. Every run is bounded
(about 15–60 s)."""
import asyncio
import glob
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_server  # noqa: E402
import sse_clients  # noqa: E402

binary, mode = sys.argv[1], sys.argv[2]
subscribers = int(sys.argv[3]) if len(sys.argv) > 3 else 200
protocol = sys.argv[4] if len(sys.argv) > 4 else "h2"
h2_client = sys.argv[5] if len(sys.argv) > 5 else "native"
if h2_client not in ("native", "python"):
    sys.exit("the HTTP/2 client is native or python, not %r" % h2_client)
if protocol == "h2" and h2_client == "native" and not os.access(bench_server.H2_SUBSCRIBERS, os.X_OK):
    sys.exit("no h2-subscribers at %s: build it (swift build -c release --product h2-subscribers) "
             "or name a build with $H2_SUBSCRIBERS_BIN" % bench_server.H2_SUBSCRIBERS)
counts_feeds = protocol != "h2" or h2_client == "python"
perf_file = os.environ.get("FANOUT_PERF")
work = tempfile.mkdtemp(prefix="fanout-logd-")

# Each DATA frame (each socket read over HTTP/1.1) is one `feed` call of a subscriber; each
# subscriber process writes its count to a file when it is done.
feeds = {"n": 0}
original_feed = sse_clients.Subscriber.feed


def counting_feed(self, chunk, now_ns, sample_every):
    feeds["n"] += 1
    return original_feed(self, chunk, now_ns, sample_every)


sse_clients.Subscriber.feed = counting_feed
original_subscribers_main = sse_clients.subscribers_main


async def subscribers_main(*args, **kwargs):
    result = await original_subscribers_main(*args, **kwargs)
    with open(os.path.join(work, "feeds-%d" % os.getpid()), "w") as f:
        f.write(str(feeds["n"]))
    return result


sse_clients.subscribers_main = subscribers_main
round_trips = []
perf = {}


async def timed_publish(kind, url, count, rate):
    """sse_clients.publish, noting each request's round trip (and sampling logd meanwhile
    with $FANOUT_PERF)."""
    target = sse_clients.Target(kind, url)
    reader, writer = await sse_clients.connect(target)
    perf["writes_before"] = write_calls(server.proc.pid)
    if perf_file:
        perf["proc"] = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(server.proc.pid), "-o", perf_file],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(perf_file + ".log", "w"))
        await asyncio.sleep(0.5)  # perf attaches
    start = time.perf_counter()
    for seq in range(count):
        if rate:
            delay = start + seq / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        sent = time.perf_counter()
        body = target.publish_body(seq)
        writer.write(b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % (target.pub_path.encode(), target.host.encode(), target.port, len(body)) + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 2"):
            raise RuntimeError("publish refused: %r" % head[:200])
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        if length:
            await reader.readexactly(length)
        round_trips.append(time.perf_counter() - sent)
    end = time.perf_counter()
    writer.close()
    if "proc" in perf:
        await asyncio.sleep(0.2)  # the last step's writes
        perf["proc"].send_signal(signal.SIGINT)
        perf["proc"].wait(30)
    return start, end


sse_clients.publish = timed_publish


def write_calls(pid):
    """The write system calls `pid` has made (/proc/PID/io, syscw)."""
    with open("/proc/%d/io" % pid) as f:
        return int(re.search(r"^syscw:\s*(\d+)", f.read(), re.M).group(1))


def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


server = bench_server.start_logd(binary, work, tls=bench_server.make_certificate(work))
live = []
stop = threading.Event()


def scrape():
    context = sse_clients.tls_context("http/1.1")
    while not stop.is_set():
        try:
            text = urllib.request.urlopen(server.url + "/metrics", context=context, timeout=2).read().decode()
            m = re.search(r"^eventlog_live_fanout_streams\S*\s+(\d+)", text, re.M)
            if m:
                live.append(int(m.group(1)))
        except OSError:
            pass
        stop.wait(0.5)


threading.Thread(target=scrape, daemon=True).start()
children_before = cpu_seconds(resource.RUSAGE_CHILDREN)
try:
    if mode == "paced":
        figures = bench_server.fanout(server, subscribers, 2000, 200, 10, protocol=protocol, h2_client=h2_client)
    else:
        figures = bench_server.fanout(server, subscribers, 2000, 0, 20, protocol=protocol, h2_client=h2_client)
    figures["client_cpu_ms_per_1k"] = 1e6 * (cpu_seconds(resource.RUSAGE_CHILDREN) - children_before) / max(1, figures["received"])
    writes = write_calls(server.proc.pid) - perf["writes_before"]
    figures["server_writes"] = writes
    figures["server_cpu_us_per_write"] = figures["server_cpu_ms_per_1k"] * figures["received"] / max(1, writes)
finally:
    stop.set()
    server.stop()
reads = sum(int(open(path).read()) for path in glob.glob(os.path.join(work, "feeds-*")))
figures["events_per_read"] = figures["received"] / max(1, reads) if counts_feeds else None
round_trips.sort()
if round_trips:
    figures["publish_rtt_p50_ms"] = 1000 * round_trips[len(round_trips) // 2]
    figures["publish_rtt_p90_ms"] = 1000 * round_trips[int(len(round_trips) * 0.9)]
figures["live_fanout_series"] = live
print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in figures.items()}))
shutil.rmtree(work, ignore_errors=True)
