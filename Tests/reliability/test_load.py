"""Load through Debian's nginx against `codesage supervise` with 4 workers, mixed tools, loopback only:
first undisturbed, then with workers killed (SIGKILL) at random during the run.

Usage: python3 Tests/reliability/test_load.py CODESAGE [--seconds S] [--clients C] [--report FILE.json]
scripts/test runs it for 10 s per phase; scripts/stress for 60 s. Exits 1 if any request failed.
"""

import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "supervisor"))
from fleet import Nginx, Stream, Supervisor, pid_alive  # noqa: E402

BINARY = os.path.abspath(sys.argv[1])
SECONDS = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 10
CLIENTS = int(sys.argv[sys.argv.index("--clients") + 1]) if "--clients" in sys.argv else 4
REPORT = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else None
WORKERS = 4


def make_repository(folder):
    files = {
        "app/server.py": 'import socket\n\n\ndef serve(port):\n    """Accepts connections."""\n    s = socket.socket()\n    s.bind(("127.0.0.1", port))\n    return s\n\n\ndef handle(conn):\n    return conn.recv(1024)\n',
        "app/cache.py": "class Cache:\n    def __init__(self, size):\n        self.size = size\n        self.items = {}\n\n    def get(self, key):\n        return self.items.get(key)\n",
        "app/copy.py": "class Cache:\n    def __init__(self, size):\n        self.size = size\n        self.items = {}\n\n    def get(self, key):\n        return self.items.get(key)\n",
        "lib/net.go": "package lib\n\nimport \"net\"\n\n// Dial opens a TCP connection.\nfunc Dial(addr string) (net.Conn, error) {\n\treturn net.Dial(\"tcp\", addr)\n}\n",
    }
    for name, text in files.items():
        os.makedirs(os.path.join(folder, os.path.dirname(name)), exist_ok=True)
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)


class MixedCalls:
    """An endless mix of every read-only tool; search queries never repeat (no search-cache hit makes a
    call cheaper than a real one), the other calls do."""

    WORDS = "open socket connection cache lookup size items handle bind port dial network key value".split()

    def __init__(self, root):
        self.root = root
        self.random = random.Random(5)
        self.lock = threading.Lock()
        self.fixed = [
            ("read_code_file", {"path": root, "file": "app/server.py", "start_line": 1, "end_line": 8}),
            ("get_file_structure", {"path": root, "file": "app/cache.py"}),
            ("count_lines_of_code", {"path": root}),
            ("list_undocumented_functions", {"path": root}),
            ("get_dependencies_overview", {"path": root}),
            ("find_duplicate_code", {"path": root}),
            ("get_memory_stats", {}),
            ("get_cache_statistics", {}),
            ("get_performance_metrics", {}),
        ]

    def __len__(self):
        return 1 << 30

    def __getitem__(self, n):
        with self.lock:
            if n % 2:
                return self.fixed[(n // 2) % len(self.fixed)]
            query = " ".join(self.random.sample(self.WORDS, 3)) + f" {self.random.randrange(10**6)}"
            mode = ("keyword", "hybrid", "semantic")[(n // 2) % 3]
            return ("search_codebase", {"path": self.root, "query": query, "mode": mode, "limit": 5})


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def run_phase(nginx, supervisor, root, kill):
    stream = Stream(nginx, MixedCalls(root), clients=CLIENTS)
    kills = []
    stop = threading.Event()

    def killer():
        chooser = random.Random(11)
        while not stop.wait(chooser.uniform(2.0, 4.0)):
            status = supervisor.status()
            live = [w["pid"] for w in status["workers"] if w["state"] == "ready" and pid_alive(w["pid"])]
            if live:
                victim = chooser.choice(live)
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)

    thread = threading.Thread(target=killer, daemon=True) if kill else None
    if thread:
        thread.start()
    started = time.monotonic()
    time.sleep(SECONDS)
    stop.set()
    if thread:
        thread.join(10)
    ok, failures = stream.stop()
    elapsed = time.monotonic() - started
    workers = supervisor.status()["workers"]
    return {
        "seconds": round(elapsed, 1), "clients": CLIENTS, "answered": ok, "failed": len(failures), "failures": failures[:5],
        "requests_per_second": round(ok / elapsed, 1),
        "p50_ms": round(percentile(stream.latencies, 0.5) * 1000, 1), "p99_ms": round(percentile(stream.latencies, 0.99) * 1000, 1),
        "workers_killed": len(kills),
        "worker_rss_mb": [round(w["rss_bytes"] / 2**20, 1) for w in workers],
        "worker_pss_mb": [round(w["pss_bytes"] / 2**20, 1) for w in workers],
    }


def main():
    folder = tempfile.mkdtemp(prefix="codesage-load-")
    supervisor = nginx = None
    try:
        root = os.path.join(folder, "repository")
        make_repository(root)
        sockets = os.path.join(folder, "sockets")
        supervisor = Supervisor(BINARY, root, sockets, WORKERS, os.path.join(folder, "supervisor.log"))
        supervisor.wait_ready(timeout=600)
        nginx = Nginx(os.path.join(folder, "nginx"), sockets, WORKERS)
        results = {"steady": run_phase(nginx, supervisor, root, kill=False)}
        supervisor.wait_ready(timeout=60)
        results["workers_killed"] = run_phase(nginx, supervisor, root, kill=True)
        for name, r in results.items():
            print(f"load test ({name}): {r['seconds']} s, {r['clients']} clients, {r['answered']} answered, {r['failed']} failed, "
                  f"{r['requests_per_second']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['workers_killed']} workers killed, "
                  f"worker RSS {r['worker_rss_mb']} MiB, PSS {r['worker_pss_mb']} MiB", flush=True)
        if REPORT:
            with open(REPORT, "w") as f:
                json.dump(results, f, indent=2)
        bad = [name for name, r in results.items() if r["failed"] or not r["answered"]]
        if results["workers_killed"]["workers_killed"] == 0:
            bad.append("no worker was killed")
        if bad:
            print(f"FAILED: {bad}: {[results[n]['failures'] for n in bad if n in results]}", flush=True)
            with open(os.path.join(folder, "supervisor.log"), errors="replace") as f:
                print("".join(f.readlines()[-30:]))
            sys.exit(1)
    finally:
        if nginx:
            nginx.stop()
        if supervisor:
            supervisor.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
