"""The single-record fsync produce row (wrk -t2 -c50 against logd, redis-benchmark XADD against
Redis with `appendfsync always`) on a slow disk: every `fdatasync`/`fsync` of both servers padded
to at least N µs by an LD_PRELOAD shim (slow-sync/slowsync.c, built here with cc), interleaved.

    python3 Tools/bench-server/fsync_slow_disk.py ROUNDS SECONDS MIN_US[,MIN_US...] LOGD_BIN [LOGD_BIN ...]

Prints, per minimum sync time, the medians and each logd build's ratio to Redis. Every load is
bounded (SECONDS per logd run; 6,000 requests per second of SECONDS for Redis) and goes to 127.0.0.1.
Not part of `make bench-server`: a tool for ADR 0013's question (group commit on a slow disk)."""
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_server as b  # noqa: E402


def build_shim(work):
    shim = os.path.join(work, "slowsync.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(HERE, "slow-sync", "slowsync.c"), "-ldl"], check=True)
    return shim


def main():
    rounds, seconds = int(sys.argv[1]), int(sys.argv[2])
    minimums = [int(x) for x in sys.argv[3].split(",")]
    binaries = sys.argv[4:]
    work = tempfile.mkdtemp(prefix="fsync-slow-")
    shim = build_shim(work)

    def env(us):
        return dict(os.environ, LD_PRELOAD=shim, FSYNC_MIN_US=str(us))

    def run(kind, us):
        if kind == "redis":
            server = b.start_redis(work, "always", env=env(us))
            try:
                return b.redis_xadd(server, 1, 6000 * seconds)["records_per_s"]
            finally:
                server.stop()
        server = b.start_logd(kind, work, "fsync", env=env(us))
        try:
            return b.wrk_produce(server, 1, seconds)["records_per_s"]
        finally:
            server.stop()

    for us in minimums:
        results = {k: [] for k in ["redis"] + binaries}
        for r in range(rounds):
            order = ["redis"] + binaries
            for kind in (order if r % 2 == 0 else list(reversed(order))):
                results[kind].append(run(kind, us))
        medians = {k: statistics.median(v) for k, v in results.items()}
        print("syncs ≥ %d µs: Redis %.0f XADD/s %s" % (us, medians["redis"], [round(x) for x in results["redis"]]), flush=True)
        for binary in binaries:
            print("  %-40s %8.0f records/s  %.2f× Redis  %s" % (binary, medians[binary], medians[binary] / medians["redis"],
                                                               [round(x) for x in results[binary]]), flush=True)


if __name__ == "__main__":
    main()
