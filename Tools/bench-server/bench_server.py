"""make bench-server: logd beside the servers users would pick instead, in one run.

Starts each server on loopback (logd release build; nginx with Nchan; redis-server), runs
every scenario interleaved (peer, logd, logd, peer, ...) for --rounds rounds, and prints one
table of medians with ratios; --write appends it to Docs/BENCHMARKS.md with the machine,
the versions and the command. Every load is bounded in count and time; servers are stopped
by PID.

Scenarios (issue 12):
  fanout-burst    S subscribers, one publisher as fast as one client can: delivered msg/s
  fanout-paced    S subscribers, publisher paced at R/s: publishes/s reached, p50/p99 latency
  fanout-1000     1,000 subscribers paced at 200/s: delivered msg/s, p99, streams incomplete
  fanout-*-h2     the same three over HTTP/2 + TLS: both servers serve HTTPS with one
                  self-signed certificate (made here with openssl), HTTP/2 by ALPN; each
                  subscriber is an HTTP/2 stream on its own TLS connection
                  (--h2-streams-per-connection K: K streams share each connection); the
                  publisher speaks HTTP/1.1 over TLS to both. The subscribers (--h2-client):
                  `native` (default), h2-subscribers, a SwiftNIO program (the package's
                  target Tools/bench-server/h2-subscribers, built with `swift build -c release
                  --product h2-subscribers`; `make bench-server` builds it; --h2-subscribers
                  names the binary), about 10 ms of CPU per 1,000 deliveries at 200 subscribers (0.4 of a
                  core at 40,000 deliveries/s); or `python`, the `h2` package
                  (sse_clients.H2EventStreams, 27-47 ms per 1,000: it saturates there). Same
                  arguments, same parsing, same summary; the HTTP/2 rows report the
                  subscribers' own CPU per 1,000 deliveries
  storm           N streams opened by 2 client processes: total time, slowest connect
  idle            N idle streams: server memory per stream, CPU while idle (keepalives)
  produce         1 record per request, 50 keep-alive connections (wrk) vs redis XADD
                  (redis-benchmark), at durability none/everysec and fsync/always; and 100
                  records per request vs redis -P 64
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import sse_clients  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The native HTTP/2 subscribers (--h2-client native): the package's release build, unless
# $H2_SUBSCRIBERS_BIN (as in Tests/e2e/test_h2_subscribers.py) or --h2-subscribers names another.
H2_SUBSCRIBERS = os.environ.get("H2_SUBSCRIBERS_BIN") or os.path.join(ROOT, ".build", "release", "h2-subscribers")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except OSError:
            pass
    return total


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def make_certificate(work):
    """A self-signed certificate for 127.0.0.1 and localhost (EC P-256), made with `openssl`
    in `work`; returns the paths of its PEM certificate and key. Both servers of the HTTP/2
    scenarios present it."""
    cert, key = os.path.join(work, "bench.crt"), os.path.join(work, "bench.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return cert, key


def tls_session(server, alpn):
    """What one TLS connection offering `alpn` negotiates with the server: "TLSv1.3
    TLS_AES_256_GCM_SHA384 h2"."""
    context = sse_clients.tls_context(alpn)
    with socket.create_connection(("127.0.0.1", server.port), 10) as raw:
        with context.wrap_socket(raw) as tls:
            return "%s %s %s" % (tls.version(), tls.cipher()[0], tls.selected_alpn_protocol())


class Server:
    def __init__(self, kind, argv, port, env=None, pidfile=None, scheme="http"):
        self.kind, self.port, self.pidfile = kind, port, pidfile
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_port(port)
        self.url = "%s://127.0.0.1:%d" % (scheme, port)

    def pids(self):
        """The server's processes: nginx's workers are its children."""
        pids = [self.proc.pid]
        try:
            out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
            pids += [int(p) for p in out.split()]
        except OSError:
            pass
        return pids

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_logd(binary, work, durability="none", extra=(), tls=None, env=None):
    """logd on a free port; with `tls` (certificate, key) it serves HTTPS, HTTP/2 by ALPN;
    `env`, the process's environment (default: this one's)."""
    port = free_port()
    data = tempfile.mkdtemp(dir=work, prefix="logd-")
    tls_args = ["--tls-certificate", tls[0], "--tls-key", tls[1]] if tls else []
    server = Server("logd", [binary, "--data-dir", data, "--host", "127.0.0.1", "--port", str(port), "--log-level", "error",
                             "--max-streams", "100000", "--default-durability", durability, *tls_args, *extra], port,
                    env=env, scheme="https" if tls else "http")
    body = json.dumps({"partitions": 1, "durability": durability}).encode()
    urllib.request.urlopen(urllib.request.Request(server.url + "/v1/topics/bench", method="PUT", data=body,
                                                  headers={"Content-Type": "application/json"}),
                           context=sse_clients.tls_context("http/1.1") if tls else None)
    return server


def start_nchan(work, tls=None):
    """nginx with Nchan on a free port; with `tls` (certificate, key) it listens with `ssl
    http2` (HTTPS, HTTP/2 by ALPN, nginx 1.22's syntax)."""
    port = free_port()
    prefix = tempfile.mkdtemp(dir=work, prefix="nginx-")
    conf = os.path.join(prefix, "nginx.conf")
    listen = "listen 127.0.0.1:%d backlog=4096;" % port
    if tls:
        listen = ("listen 127.0.0.1:%d ssl http2 backlog=4096;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n"
                  "    ssl_protocols TLSv1.2 TLSv1.3;") % (port, tls[0], tls[1])
    with open(conf, "w") as f:
        f.write("""
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 2;
worker_rlimit_nofile 65536;
error_log stderr error;
pid %s/nginx.pid;
events { worker_connections 32768; }
http {
  access_log off;
  # nginx closes a keep-alive connection after 1,000 requests by default; the publisher
  # sends every message over one connection, as it does to logd.
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path %s;
  server {
    %s
    location = /pub { nchan_publisher; nchan_channel_id bench; nchan_message_buffer_length 2000; }
    location = /sub { nchan_subscriber eventsource; nchan_channel_id bench; }
    # No Nchan: nginx answering a constant, for the produce scenario's ceiling row (what an
    # HTTP server that does no work reaches under the same wrk load).
    location = /v1/topics/bench/records { default_type application/json; return 200 '{"offsets":[{"partition":0,"offset":0}]}'; }
  }
}
""" % (prefix, prefix, listen))
    return Server("nchan", ["nginx", "-p", prefix, "-c", conf, "-g", "daemon off;"], port,
                  scheme="https" if tls else "http")


def start_redis(work, appendfsync, env=None):
    port = free_port()
    data = tempfile.mkdtemp(dir=work, prefix="redis-")
    return Server("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", data, "--save", "",
                            "--appendonly", "yes", "--appendfsync", appendfsync], port, env=env)


# ---- scenarios: each returns a dict of figures for one server ----

def native_subscribers(server, count, sample_every, ready_path, seconds, expect, streams_per_connection):
    """Starts one process of the native HTTP/2 subscribers (h2-subscribers) with the arguments of
    `sse_clients.subscribers_main`; it prints its summary as one JSON object when it ends."""
    return subprocess.Popen([H2_SUBSCRIBERS, "--kind", server.kind, "--url", server.url, "--count", str(count),
                             "--sample-every", str(sample_every), "--ready-path", ready_path,
                             "--stop-after", str(seconds), "--expect", str(expect),
                             "--streams-per-connection", str(streams_per_connection)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def native_summary(proc, timeout):
    """The summary a native subscribers process printed; raises with its message if it failed."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError("h2-subscribers did not finish within %d s" % timeout)
    if proc.returncode != 0:
        raise RuntimeError("h2-subscribers failed (exit %d): %s" % (proc.returncode, err.strip()[-500:]))
    return json.loads(out)


def fanout(server, subscribers, messages, rate, seconds, processes=2, protocol="http/1.1", streams_per_connection=1,
           h2_client="native"):
    """`subscribers` streams in `processes` client processes (over HTTP/2 + TLS when `protocol`
    is "h2", `streams_per_connection` on each connection, with the native client h2-subscribers
    or, `h2_client="python"`, the Python `h2` one); then one publisher. The subscribers read for
    `seconds` plus a drain time, then count what they have."""
    tls = tls_session(server, protocol) if protocol == "h2" else None
    native = protocol == "h2" and h2_client == "native"
    # The Python HTTP/2 client (`h2`) spends several times more CPU per event than the HTTP/1.1
    # one: it gets more time to drain what the server sent, so that a stream the client is late
    # on does not count as incomplete.
    drain = 120 if protocol == "h2" and not native else 30
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    ready = []
    procs = []
    per = [subscribers // processes + (1 if i < subscribers % processes else 0) for i in range(processes)]
    sample_every = 1 if rate else 0
    for i, count in enumerate(per):
        path = tempfile.mktemp(prefix="sse-ready-")
        ready.append(path)
        if native:
            procs.append(native_subscribers(server, count, sample_every, path, seconds + drain, messages,
                                            streams_per_connection))
            continue
        p = ctx.Process(target=sse_clients.run_subscribers,
                        args=((server.kind, server.url, count, sample_every, path, seconds + drain, messages,
                               protocol, streams_per_connection, out),))
        p.start()
        procs.append(p)
    try:
        deadline = time.time() + 60
        while not all(os.path.exists(p) for p in ready):
            if native:
                for p in procs:
                    if p.poll() is not None:
                        native_summary(p, 1)  # raises with its message
                        raise RuntimeError("h2-subscribers ended before its streams were ready")
            if time.time() > deadline:
                raise RuntimeError("subscribers did not connect")
            time.sleep(0.02)
        time.sleep(0.2)
        ticks_before = cpu_ticks(server.pids())
        start, end = asyncio.run(sse_clients.publish(server.kind, server.url, messages, rate))
        if native:
            results = [native_summary(p, seconds + drain + 60) for p in procs]
        else:
            results = [out.get(timeout=seconds + drain + 60) for _ in procs]
    except BaseException:
        # The other subscriber processes would read until their --stop-after: end them (by PID).
        for p in procs:
            if native and p.poll() is None:
                p.kill()
                p.wait()
            elif not native and p.is_alive():
                p.kill()
                p.join()
        raise
    server_cpu_seconds = (cpu_ticks(server.pids()) - ticks_before) / os.sysconf("SC_CLK_TCK")
    if not native:
        for p in procs:
            p.join(10)
    for path in ready:
        os.unlink(path)
    received = sum(r["received"] for r in results)
    last = max(r["last_receive"] for r in results)
    latencies = sorted(x / 1e6 for r in results for x in r["latencies_ns"])
    figures = {
        "publishes_per_s": messages / (end - start),
        "delivered_per_s": received / max(1e-9, last - start),
        "received": received,
        "expected": messages * subscribers,
        "order_errors": sum(r["errors"] for r in results),
        "incomplete_streams": sum(r["incomplete"] for r in results),
        # The server's CPU (user + system, all its processes) per 1,000 events delivered.
        "server_cpu_ms_per_1k": 1000 * server_cpu_seconds / max(1, received) * 1000,
        # The subscriber processes' own CPU (user + system, connecting included) per 1,000
        # events delivered: how much of the machine the client took from the server.
        "client_cpu_ms_per_1k": 1000 * sum(r["cpu_seconds"] for r in results) / max(1, received) * 1000,
        # The same from "ready" on: what reading the events cost, without starting and connecting.
        "client_read_cpu_ms_per_1k": 1000 * sum(r["cpu_seconds"] - r["ready_cpu_seconds"] for r in results)
                                     / max(1, received) * 1000,
    }
    if latencies:
        figures["p50_ms"] = latencies[len(latencies) // 2]
        figures["p99_ms"] = latencies[int(len(latencies) * 0.99)]
    if tls:
        figures["tls"] = tls
    return figures


def storm_process(kind, url, count, conn, hold):
    """A client process of the storm: opens `count` streams, reports, holds them open."""
    async def main():
        writers, times, total = await sse_clients.storm_main(kind, url, count, 64)
        conn.send({"times": times, "total": total})
        conn.recv()  # hold the streams open until the parent has measured
        for _, w in writers:
            w.close()
    asyncio.run(main())


def storm(server, streams, processes=2, idle_seconds=10):
    """Opens `streams` streams from `processes` processes; measures the time, the slowest
    connect, the server's memory per stream and its CPU while the streams idle (over 30 s in a
    full run: two of logd's 15 s keepalive rounds, so that the figure does not depend on whether
    a round falls in the window)."""
    base_rss = rss_kib(server.pids())
    ctx = mp.get_context("fork")
    pipes, procs = [], []
    open_ticks = cpu_ticks(server.pids())
    started = time.perf_counter()
    for i in range(processes):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=storm_process, args=(server.kind, server.url, streams // processes, child, True))
        p.start()
        pipes.append(parent)
        procs.append(p)
    reports = [pipe.recv() for pipe in pipes]
    total = time.perf_counter() - started
    open_ticks = cpu_ticks(server.pids()) - open_ticks
    times = sorted(t for r in reports for t in r["times"])
    time.sleep(2)
    rss = rss_kib(server.pids())
    ticks0, t0 = cpu_ticks(server.pids()), time.perf_counter()
    time.sleep(idle_seconds)
    ticks1, t1 = cpu_ticks(server.pids()), time.perf_counter()
    for pipe in pipes:
        pipe.send("close")
    for p in procs:
        p.join(30)
    hz = os.sysconf("SC_CLK_TCK")
    first, last = times[: len(times) // 10], times[-(len(times) // 10):]
    return {
        "open_all_s": total,
        "slowest_connect_ms": times[-1] * 1000,
        "connects_over_200ms": sum(1 for t in times if t >= 0.2),
        "median_connect_ms": times[len(times) // 2] * 1000,
        "kib_per_idle_stream": (rss - base_rss) / streams,
        # The server's CPU (user + system) while the streams were opened, per stream: the cost
        # of opening one, to compare between storms of different sizes.
        "server_cpu_us_per_stream_opened": 1e6 * open_ticks / hz / streams,
        "idle_cpu_percent_of_one_core": 100 * (ticks1 - ticks0) / hz / (t1 - t0),
        "first_tenth_median_ms": statistics.median(first) * 1000 if first else 0,
        "last_tenth_median_ms": statistics.median(last) * 1000 if last else 0,
    }


WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


def wrk_produce(server, records_per_request, seconds, connections=50):
    values = ",".join('{"value":{"n":%d,"pad":"0123456789012345678901234567890123456789"}}' % i for i in range(records_per_request))
    script = tempfile.mktemp(suffix=".lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % ('{"records":[' + values + "]}"))
    out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s", "-s", script,
                          server.url + "/v1/topics/bench/records"], capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"records_per_s": rps * records_per_request, "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def redis_xadd(server, pipeline, requests, connections=50):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", str(connections),
                          "-n", str(requests), "-P", str(pipeline), "-q", "XADD", "bench", "*", "v",
                          '{"n":1,"pad":"0123456789012345678901234567890123456789"}'],
                         capture_output=True, text=True, timeout=300).stdout
    return {"records_per_s": float(re.search(r"([\d.]+) requests per second", out).group(1))}


def h2_client_version(h2_client):
    """The HTTP/2 subscribers' stack: the native client's SwiftNIO versions (from the
    package's Package.resolved), or the `h2` package and the OpenSSL Python's `ssl` runs on."""
    if h2_client == "native":
        pins = {}
        try:
            with open(os.path.join(ROOT, "Package.resolved")) as f:
                pins = {p["identity"]: p["state"].get("version", "?") for p in json.load(f)["pins"]}
        except (OSError, ValueError, KeyError):
            pass
        return "h2-subscribers (SwiftNIO %s, swift-nio-http2 %s, swift-nio-ssl %s over BoringSSL)" % (
            pins.get("swift-nio", "?"), pins.get("swift-nio-http2", "?"), pins.get("swift-nio-ssl", "?"))
    import ssl
    import h2
    return "Python h2 %s over %s" % (h2.__version__, ssl.OPENSSL_VERSION)


def median_of(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else float("nan")


def main():
    global H2_SUBSCRIBERS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logd", default=os.path.join(ROOT, ".build", "release", "logd"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="fanout-burst,fanout-paced,fanout-1000,fanout-burst-h2,fanout-paced-h2,"
                                          "fanout-1000-h2,storm,produce",
                        help="comma-separated scenarios: fanout-burst, fanout-paced, fanout-1000, their HTTP/2 + TLS "
                             "variants fanout-burst-h2, fanout-paced-h2, fanout-1000-h2, storm, produce")
    parser.add_argument("--h2-streams-per-connection", type=int, default=1, metavar="K",
                        help="HTTP/2 scenarios: event streams per TLS connection (1: one connection per subscriber, "
                             "as separate browsers; up to 100: one page's EventSources on one connection)")
    parser.add_argument("--h2-client", choices=("native", "python"), default="native",
                        help="HTTP/2 scenarios' subscribers: native (h2-subscribers, SwiftNIO; build it with "
                             "`swift build -c release --product h2-subscribers`) or python (the `h2` package)")
    parser.add_argument("--h2-subscribers", default=H2_SUBSCRIBERS, metavar="PATH",
                        help="the native subscribers' binary (default: .build/release/h2-subscribers)")
    parser.add_argument("--quick", action="store_true", help="small loads (a smoke test of the harness)")
    parser.add_argument("--write", action="store_true", help="append the table to Docs/BENCHMARKS.md")
    args = parser.parse_args()
    if not 1 <= args.h2_streams_per_connection <= 100:
        parser.error("--h2-streams-per-connection must be between 1 and 100 (logd allows 100 streams per connection, nginx 128)")
    only = set(args.only.split(","))
    H2_SUBSCRIBERS = os.path.abspath(args.h2_subscribers)
    if args.h2_client == "native" and any(name.endswith("-h2") for name in only) and not os.access(H2_SUBSCRIBERS, os.X_OK):
        parser.error("--h2-client native needs %s: swift build -c release --product h2-subscribers" % H2_SUBSCRIBERS)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 65536), max(hard, 65536)))
    except (ValueError, OSError):
        pass
    quick = args.quick
    work = tempfile.mkdtemp(prefix="bench-server-")
    rows = []  # (scenario, figure, peer name, peer value, logd value, better)
    sessions = {}  # server kind -> the TLS sessions its HTTP/2 subscribers negotiated

    def interleaved(make_peer, make_logd, run):
        peer_runs, logd_runs = [], []
        for r in range(args.rounds):
            order = [("peer", make_peer), ("logd", make_logd)] if r % 2 == 0 else [("logd", make_logd), ("peer", make_peer)]
            for who, make in order:
                server = make()
                try:
                    result = run(server)
                finally:
                    server.stop()
                (peer_runs if who == "peer" else logd_runs).append(result)
                if "tls" in result:
                    sessions.setdefault(server.kind, set()).add(result["tls"])
                print("  %s round %d: %s" % (who, r + 1, {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}), flush=True)
        return peer_runs, logd_runs

    def add(scenario, figure, peer, peer_runs, logd_runs, key, higher_is_better=True):
        rows.append((scenario, figure, peer, median_of(peer_runs, key), median_of(logd_runs, key), higher_is_better))

    def add_correctness(peer_runs, logd_runs):
        if "tls" in (peer_runs + logd_runs)[0]:
            # HTTP/2 rows: what the subscribers cost, so that a reader sees whether they, not the
            # servers, were the limit.
            add("", "subscribers' client CPU ms per 1,000 deliveries", "Nchan", peer_runs, logd_runs,
                "client_cpu_ms_per_1k", False)
        add("", "deliveries missing or out of order", "Nchan", peer_runs, logd_runs, "order_errors", False)
        add("", "streams incomplete", "Nchan", peer_runs, logd_runs, "incomplete_streams", False)

    subs = 20 if quick else 200
    certificate = None
    for suffix, protocol in (("", "http/1.1"), ("-h2", "h2")):
        if not any(name + suffix in only for name in ("fanout-burst", "fanout-paced", "fanout-1000")):
            continue
        tls = None
        over = ""
        if protocol == "h2":
            certificate = certificate or make_certificate(work)
            tls = certificate
            k = args.h2_streams_per_connection
            over = ", HTTP/2 + TLS" + (", %d streams per connection" % k if k > 1 else "")

        def peer(tls=tls):
            return start_nchan(work, tls)

        def logd(tls=tls):
            return start_logd(args.logd, work, tls=tls)

        def run(subscribers, messages, rate, seconds, protocol=protocol):
            return lambda s: fanout(s, subscribers, messages, rate, seconds, protocol=protocol,
                                    streams_per_connection=args.h2_streams_per_connection, h2_client=args.h2_client)

        if "fanout-burst" + suffix in only:
            print("fan-out, %d subscribers, burst%s" % (subs, over), flush=True)
            n = 200 if quick else 2000
            p, l = interleaved(peer, logd, run(subs, n, 0, 60))
            add("SSE fan-out, %d subscribers, burst%s" % (subs, over), "delivered msg/s", "Nchan", p, l, "delivered_per_s")
            add("", "publishes/s of one client", "Nchan", p, l, "publishes_per_s")
            add("", "server CPU ms per 1,000 deliveries", "Nchan", p, l, "server_cpu_ms_per_1k", False)
            add_correctness(p, l)
        if "fanout-paced" + suffix in only:
            print("fan-out, %d subscribers, paced 200/s%s" % (subs, over), flush=True)
            n = 200 if quick else 2000
            p, l = interleaved(peer, logd, run(subs, n, 200, n / 200))
            add("SSE fan-out, %d subscribers, paced 200/s%s" % (subs, over), "publishes/s reached", "Nchan", p, l, "publishes_per_s")
            add("", "publish→receive p50 ms", "Nchan", p, l, "p50_ms", False)
            add("", "publish→receive p99 ms", "Nchan", p, l, "p99_ms", False)
            add_correctness(p, l)
        if "fanout-1000" + suffix in only:
            # --quick: 100 subscribers, 1 s (a smoke test of the scenario, not its figures).
            many, n = (100, 200) if quick else (1000, 2000)
            print("fan-out, %d subscribers, paced 200/s%s" % (many, over), flush=True)
            p, l = interleaved(peer, logd, run(many, n, 200, n / 200))
            add("SSE fan-out, %d subscribers, paced 200/s%s" % (many, over), "delivered msg/s", "Nchan", p, l, "delivered_per_s")
            add("", "publish→receive p99 ms", "Nchan", p, l, "p99_ms", False)
            add("", "server CPU ms per 1,000 deliveries", "Nchan", p, l, "server_cpu_ms_per_1k", False)
            add_correctness(p, l)
    if "storm" in only:
        for streams in ([1000] if quick else [1000, 10000]):
            print("storm, %d streams" % streams, flush=True)
            p, l = interleaved(lambda: start_nchan(work), lambda: start_logd(args.logd, work),
                               lambda s: storm(s, streams, idle_seconds=3 if quick else 30))
            add("%d SSE streams opened by 2 processes" % streams, "seconds to open all", "Nchan", p, l, "open_all_s", False)
            add("", "slowest connect ms", "Nchan", p, l, "slowest_connect_ms", False)
            add("", "connects ≥ 200 ms", "Nchan", p, l, "connects_over_200ms", False)
            add("", "median connect ms, first tenth opened", "Nchan", p, l, "first_tenth_median_ms", False)
            add("", "median connect ms, last tenth opened", "Nchan", p, l, "last_tenth_median_ms", False)
            add("", "server CPU µs per stream opened", "Nchan", p, l, "server_cpu_us_per_stream_opened", False)
            add("", "KiB per idle stream", "Nchan", p, l, "kib_per_idle_stream", False)
            add("", "CPU while idle, % of one core", "Nchan", p, l, "idle_cpu_percent_of_one_core", False)
    if "produce" in only:
        seconds = 3 if quick else 10
        requests = 20000 if quick else 200000
        for (durability, fsync, label) in (("none", "everysec", "none vs everysec"), ("fsync", "always", "fsync vs always")):
            print("produce, 1 record per request, %s" % label, flush=True)
            p, l = interleaved(lambda: start_redis(work, fsync), lambda: start_logd(args.logd, work, durability),
                               lambda s: redis_xadd(s, 1, requests) if s.kind == "redis" else wrk_produce(s, 1, seconds))
            add("produce, 1 record/request, 50 connections, %s" % label, "records/s", "Redis XADD", p, l, "records_per_s")
            if durability == "none":
                # The ceiling of the HTTP side: nginx answers the same wrk load with a constant
                # (nothing parsed, nothing stored), beside Redis in the same run.
                print("produce ceiling: nginx answering a constant", flush=True)
                p, l = interleaved(lambda: start_redis(work, fsync), lambda: start_nchan(work),
                                   lambda s: redis_xadd(s, 1, requests) if s.kind == "redis" else wrk_produce(s, 1, seconds))
                add("ceiling: nginx answers the same wrk load with a constant, no work (in the logd column)", "requests/s",
                    "Redis XADD", p, l, "records_per_s")
            print("produce, 100 records per request, %s" % label, flush=True)
            p, l = interleaved(lambda: start_redis(work, fsync), lambda: start_logd(args.logd, work, durability),
                               lambda s: redis_xadd(s, 64, requests * 5) if s.kind == "redis" else wrk_produce(s, 100, seconds))
            add("produce, 100 records/request, %s (Redis -P 64)" % label, "records/s", "Redis XADD", p, l, "records_per_s")

    shutil.rmtree(work, ignore_errors=True)
    table = ["| work | figure | peer | peer | logd | logd / peer |", "|---|---|---|---|---|---|"]
    for scenario, figure, peer, pv, lv, higher in rows:
        ratio = (lv / pv if higher else pv / lv) if pv and lv and pv == pv and lv == lv else float("nan")
        table.append("| %s | %s | %s | %.4g | %.4g | %s |" % (scenario, figure, peer, pv, lv,
                                                              ("%.2f×" % ratio) if ratio == ratio else "—"))
    notes = ""
    if sessions:
        notes = (" HTTP/2 + TLS rows: both servers serve HTTPS with one self-signed EC P-256 certificate; every "
                 "subscriber is an HTTP/2 client (%s) on %s; the publisher speaks HTTP/1.1 over TLS to both "
                 "servers; sessions negotiated: %s." % (
                     h2_client_version(args.h2_client),
                     "its own TLS connection" if args.h2_streams_per_connection == 1
                     else "TLS connections carrying %d streams each" % args.h2_streams_per_connection,
                     "; ".join("%s %s" % (kind, ", ".join(sorted(v))) for kind, v in sorted(sessions.items()))))
    print("\n".join(table))
    if notes:
        print(notes.strip())
    if args.write:
        versions = "; ".join(filter(None, [
            subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
            subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split(" sha")[0],
            subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0],
            h2_client_version(args.h2_client) if sessions else ""]))
        with open(os.path.join(ROOT, "Docs", "BENCHMARKS.md"), "a") as f:
            f.write("\n### make bench-server, %s\n\n%s, %d cores; %s. Command: `make bench-server BENCH_SERVER_ARGS=\"%s\"`. "
                    "Medians of %d interleaved rounds; ratios > 1 favour logd (for times and latencies the ratio is peer / logd).%s\n\n%s\n"
                    % (time.strftime("%Y-%m-%d"), platform.platform(), os.cpu_count(), versions, " ".join(sys.argv[1:]),
                       args.rounds, notes, "\n".join(table)))


if __name__ == "__main__":
    main()
