"""Search throughput through nginx in front of `codesage supervise` with 1, 2 and 4 workers.

Usage: supervisor_throughput.py CODESAGE ROOT [--seconds S] [--clients C] [--workers 1,2,4]
For each worker count: a fresh supervisor and nginx (config/nginx.conf), one warm-up search per worker,
then C clients send tools/call search_codebase for S seconds: semantic queries that are all distinct
(so each one embeds a query: no cache hits), then keyword queries. Prints a Markdown table.
"""

import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "supervisor"))
from fleet import Nginx, Stream, Supervisor, UnixHTTPConnection, call_ok, tool_call  # noqa: E402

binary, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 20
clients = int(sys.argv[sys.argv.index("--clients") + 1]) if "--clients" in sys.argv else 8
counts = [int(n) for n in (sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv else "1,2,4").split(",")]

WORDS = ("parse open read write file socket cache lock thread queue buffer token index search query vector "
         "path config error retry timeout request response json encode decode stream process memory").split()


class DistinctQueries:
    """An endless list of calls whose semantic queries never repeat."""

    def __init__(self, mode):
        self.mode = mode
        self.random = random.Random(7)

    def __len__(self):
        return 1 << 30

    def __getitem__(self, _):
        words = " ".join(self.random.sample(WORDS, 4)) + f" {self.random.randrange(1 << 30)}"
        return ("search_codebase", {"path": root, "query": words, "mode": self.mode, "limit": 10})


def measure(workers, mode, folder):
    sockets = os.path.join(folder, f"sockets-{workers}")
    supervisor = Supervisor(binary, root, sockets, workers, os.path.join(folder, "supervisor.log"))
    nginx = None
    try:
        supervisor.wait_ready()
        for i in range(workers):
            connection = UnixHTTPConnection(os.path.join(sockets, f"worker-{i}.sock"), timeout=120)
            assert call_ok(*tool_call(connection, "search_codebase", {"path": root, "query": "warm up", "limit": 10}))
            connection.close()
        nginx = Nginx(os.path.join(folder, f"nginx-{workers}"), sockets, workers)
        stream = Stream(nginx, DistinctQueries(mode), clients=clients)
        started = time.monotonic()
        time.sleep(seconds)
        ok, failures = stream.stop()
        elapsed = time.monotonic() - started
        latencies = sorted(stream.latencies)
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        return ok / elapsed, statistics.median(latencies) * 1000, p(0.99), len(failures)
    finally:
        if nginx:
            nginx.stop()
        supervisor.stop()


folder = tempfile.mkdtemp(prefix="codesage-bench-sv-")
print(f"{clients} clients, {seconds:.0f} s per row, through nginx (least_conn, keepalive) to worker Unix sockets\n")
print("| mode | workers | requests/s | vs 1 worker | median ms | p99 ms | failed |")
print("|---|---:|---:|---:|---:|---:|---:|")
for mode in ("semantic", "keyword"):
    base = None
    for workers in counts:
        rate, median, p99, failed = measure(workers, mode, folder)
        base = base or rate
        print(f"| {mode} | {workers} | {rate:.1f} | {rate / base:.2f}x | {median:.1f} | {p99:.1f} | {failed} |", flush=True)
