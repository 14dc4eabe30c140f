"""`codesage supervise` end to end, behind Debian's real nginx: sharing of the mapped index, worker and
supervisor faults, memory budgets, reload under load, and NUMA planning on a synthetic topology.

Usage: python3 Tests/supervisor/test_supervisor.py CODESAGE CODESAGE_BENCH [--report FILE.json]
Prints one line per check and the measured figures; exits 1 on the first failed check.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet import REPO, HAProxy, Nginx, Stream, Supervisor, UnixHTTPConnection, call_ok, pid_alive, smaps_rollup, tool_call  # noqa: E402

BINARY, BENCH = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
REPORT = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else None
figures = {}
checks = 0


def check(condition, message):
    global checks
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)
    checks += 1


def say(message):
    print(f"supervisor test: {message}", flush=True)


def make_repository(folder):
    """A tiny repository: three source files (the supervisor indexes it itself)."""
    os.makedirs(os.path.join(folder, "pkg"))
    files = {
        "pkg/net.py": "def open_socket(host, port):\n    \"\"\"Opens a TCP connection.\"\"\"\n    return (host, port)\n",
        "pkg/cache.py": "class LeastRecentlyUsed:\n    \"\"\"A bounded cache.\"\"\"\n    def get(self, key):\n        return None\n",
        "pkg/text.py": "def normalise_whitespace(text):\n    return ' '.join(text.split())\n",
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)


def wait_until(predicate, timeout, step=0.02):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        value = predicate()
        if value:
            return time.monotonic() - started
        time.sleep(step)
    return None


def mapping_rollup(pid, path):
    """Rss, Pss and Shared_Clean of the mappings of `path` in process `pid` (from /proc/PID/smaps)."""
    totals = {"Rss": 0, "Pss": 0, "Shared_Clean": 0}
    inside = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                inside = len(head) >= 6 and head[5] == path
            elif inside and head and head[0].rstrip(":") in totals:
                totals[head[0].rstrip(":")] += int(head[1]) * 1024
    return totals


def sharing_and_faults(folder):
    """4 workers on a ≥ 50 MB memory-mapped index, behind nginx."""
    big = os.path.join(folder, "big")
    env = {"CODESAGE_INDEX_COMPRESSION": "false"}
    subprocess.run([BENCH, "synthetic-index", "--root", big, "--source", os.path.join(REPO, "Sources"),
                    "--chunks", "36000"], check=True, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    index_file = [os.path.join(big, ".codesage", n) for n in os.listdir(os.path.join(big, ".codesage")) if n.endswith(".faiss")][0]
    index_bytes = os.path.getsize(index_file)
    check(index_bytes >= 50 << 20, f"the synthetic index is at least 50 MB ({index_bytes} bytes)")
    sockets = os.path.join(folder, "sockets-big")
    supervisor = Supervisor(BINARY, big, sockets, 4, os.path.join(folder, "supervisor-big.log"),
                            env={"CODESAGE_ENABLE_MEMORY_MAPPED_INDEXES": "true"}, extra=["--heartbeat-timeout", "1.5"])
    nginx = None
    try:
        status = supervisor.wait_ready()
        # One semantic search on every worker directly: each maps the model too.
        for i in range(4):
            connection = UnixHTTPConnection(os.path.join(sockets, f"worker-{i}.sock"), timeout=120)
            check(call_ok(*tool_call(connection, "search_codebase", {"path": big, "query": "open a file and read its lines", "limit": 5})),
                  f"worker {i} answers a semantic search on its socket")
            connection.close()
        pids = [w["pid"] for w in status["workers"]]
        index_maps = [mapping_rollup(pid, os.path.realpath(index_file)) for pid in pids]
        rollups = [smaps_rollup(pid) for pid in pids]
        rss = [r["Rss"] for r in rollups]
        pss_sum = sum(r["Pss"] for r in rollups)
        figures["sharing"] = {
            "index_file_bytes": index_bytes, "workers": 4,
            "index_shared_clean_bytes": [m["Shared_Clean"] for m in index_maps],
            "index_pss_bytes": [m["Pss"] for m in index_maps],
            "rss_bytes": rss, "pss_bytes": [r["Pss"] for r in rollups], "pss_sum_bytes": pss_sum,
            "shared_clean_bytes": [r.get("Shared_Clean", 0) for r in rollups],
        }
        for i, m in enumerate(index_maps):
            check(m["Shared_Clean"] >= 0.9 * index_bytes,
                  f"worker {i}: Shared_Clean of the index mapping {m['Shared_Clean']} covers 90 % of the file ({index_bytes})")
        one_rss = statistics.median(rss)
        check(pss_sum <= 1.5 * one_rss, f"sum of the workers' PSS {pss_sum >> 20} MiB <= 1.5 x one worker's RSS {one_rss / 2**20:.0f} MiB")
        say(f"sharing: index {index_bytes >> 20} MiB; each worker's index Shared_Clean {[m['Shared_Clean'] >> 20 for m in index_maps]} MiB; "
            f"RSS {[r >> 20 for r in rss]} MiB; sum of PSS {pss_sum >> 20} MiB = {pss_sum / one_rss:.2f} x one RSS")

        nginx = Nginx(os.path.join(folder, "nginx-big"), sockets, 4)
        calls = [("search_codebase", {"path": big, "query": q, "mode": "keyword", "limit": 5}) for q in ("socket", "cache", "return", "self")]
        calls.append(("search_codebase", {"path": big, "query": "parse command line arguments", "limit": 5}))
        stream = Stream(nginx, calls, clients=2)
        time.sleep(1.5)

        # kill -9 of a worker while searches stream through nginx.
        victim = supervisor.worker_pids()[1]
        os.kill(victim, signal.SIGKILL)
        replaced = wait_until(lambda: (lambda w: w["pid"] != victim and w["state"] == "ready" and pid_alive(w["pid"]))(
            supervisor.status()["workers"][1]), 10)
        check(replaced is not None and replaced <= 2.0, f"a killed worker is replaced within 2 s (took {replaced})")
        figures["worker_kill_replaced_seconds"] = round(replaced, 3)
        time.sleep(1.0)

        # A worker that stops heartbeating (SIGSTOP) is replaced.
        hung = supervisor.worker_pids()[2]
        os.kill(hung, signal.SIGSTOP)
        replaced_hung = wait_until(lambda: (lambda w: w["pid"] != hung and w["state"] == "ready")(supervisor.status()["workers"][2]), 20)
        check(replaced_hung is not None, "a worker that stops heartbeating is replaced")
        check(not pid_alive(hung), "the hung worker was killed")
        figures["hung_worker_replaced_seconds"] = round(replaced_hung, 3)
        time.sleep(1.0)
        ok, failures = stream.stop()
        figures["fault_stream"] = {"answered": ok, "failed": len(failures)}
        check(ok > 0 and not failures, f"no request failed through nginx while workers were killed ({ok} answered): {failures[:3]}")
        say(f"faults: killed worker replaced in {replaced:.2f} s, hung worker in {replaced_hung:.2f} s; {ok} requests, 0 failed")

        # kill -9 of the supervisor: every worker exits within 2 s.
        pids = supervisor.worker_pids()
        supervisor.process.kill()
        supervisor.process.wait()
        gone = wait_until(lambda: not any(pid_alive(p) for p in pids), 10)
        check(gone is not None and gone <= 2.0, f"every worker exits within 2 s of the supervisor's death (took {gone})")
        figures["supervisor_kill_workers_gone_seconds"] = round(gone, 3)
        say(f"supervisor killed: its {len(pids)} workers exited in {gone:.2f} s")
    finally:
        if nginx:
            nginx.stop()
        supervisor.stop()

    # A new supervisor starts cleanly over the stale segment and lock.
    again = Supervisor(BINARY, big, sockets, 1, os.path.join(folder, "supervisor-big.log"))
    try:
        status = again.wait_ready()
        check(status["supervisor"]["pid"] == again.process.pid and status["supervisor"]["alive"], "a new supervisor replaces the stale control block")
    finally:
        code = again.stop()
    check(code == 0, f"SIGTERM drains and exits 0 (got {code})")


def reload_under_load(folder, repository):
    sockets = os.path.join(folder, "sockets-reload")
    supervisor = Supervisor(BINARY, repository, sockets, 2, os.path.join(folder, "supervisor-reload.log"))
    nginx = None
    try:
        status = supervisor.wait_ready(timeout=600)  # it indexes the repository first
        before = status["supervisor"]["index_generation"]
        second = subprocess.run([BINARY, "supervise", "--path", repository, "--socket-dir", sockets, "--workers", "1"],
                                capture_output=True, text=True, timeout=60)
        check(second.returncode == 75 and "locked" in second.stderr, f"a second supervisor on the same folder is refused: {second.returncode} {second.stderr}")
        check(before >= 1 and all(w["index_generation"] == before for w in status["workers"]), "the supervisor built the index and workers opened it")
        nginx = Nginx(os.path.join(folder, "nginx-reload"), sockets, 2)
        calls = [("search_codebase", {"path": repository, "query": q, "mode": "keyword"}) for q in ("socket", "cache", "whitespace")]
        stream = Stream(nginx, calls, clients=2)
        time.sleep(1.0)
        with open(os.path.join(repository, "pkg", "fresh.py"), "w") as f:
            f.write("def reticulate_splines(count):\n    return count * 2\n")
        subprocess.run([BINARY, "index", repository], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        switched = wait_until(lambda: (lambda s: s["supervisor"]["index_generation"] > before and
                                       all(w["index_generation"] == s["supervisor"]["index_generation"] for w in s["workers"]))(supervisor.status()), 30)
        check(switched is not None, "every worker switched to the new generation")
        os.kill(supervisor.process.pid, signal.SIGHUP)
        time.sleep(1.0)
        ok, failures = stream.stop()
        check(ok > 0 and not failures, f"no request failed during the re-index ({ok} answered): {failures[:3]}")
        connection = nginx.connection()
        status_code, body = tool_call(connection, "search_codebase", {"path": repository, "query": "reticulate_splines", "mode": "keyword"})
        check(call_ok(status_code, body) and "fresh.py" in body["result"]["content"][0]["text"], "the new generation answers through nginx")
        figures["reload"] = {"switch_seconds": round(switched, 3), "answered": ok, "failed": len(failures)}
        haproxy = HAProxy(os.path.join(folder, "haproxy"), sockets, 2)
        try:
            answers = [call_ok(*tool_call(haproxy.connection(), "search_codebase", {"path": repository, "query": "cache", "mode": "keyword"}))
                       for _ in range(4)]
            check(all(answers), "config/haproxy.cfg: HAProxy serves the workers too")
        finally:
            haproxy.stop()
        say(f"reload: all workers on the new generation {switched:.2f} s after the index run; {ok} requests, 0 failed")
    finally:
        if nginx:
            nginx.stop()
        supervisor.stop()


def budgets(folder, repository):
    sockets = os.path.join(folder, "sockets-budget")
    # Soft limit: 1 MB, which every worker is over: each is asked to clean up, and acknowledges.
    supervisor = Supervisor(BINARY, repository, sockets, 2, os.path.join(folder, "supervisor-soft.log"), extra=["--soft-limit", "1MB"])
    try:
        supervisor.wait_ready()
        acked = wait_until(lambda: all(w["cleanup_acknowledged"] >= 1 for w in supervisor.status()["workers"]), 15)
        check(acked is not None, "workers over the soft limit acknowledge a cleanup")

        def cleaned():
            with open(os.path.join(folder, "supervisor-soft.log"), errors="replace") as f:
                text = f.read()
            return all(f"worker {i}: cleanup " in text for i in range(2))
        check(wait_until(cleaned, 15, step=0.2) is not None, "each worker over the soft limit ran its cleanup (its log says so)")
        idle_pss = max(w["pss_bytes"] for w in supervisor.status()["workers"]) or max(smaps_rollup(p)["Pss"] for p in supervisor.worker_pids())
    finally:
        supervisor.stop()

    # Hard limit: above an idle worker, below one that has answered a semantic search (the model's pages it
    # touches, ~34 MB measured, are its own while no other worker maps them). "Idle" is a fresh worker's PSS
    # once ready (index opened and touched), measured on a fleet of its own: after the cleanups above a worker
    # holds less than a fresh one, and a limit from that figure caught fresh workers too.
    probe = Supervisor(BINARY, repository, sockets, 2, os.path.join(folder, "supervisor-probe.log"))
    try:
        probe.wait_ready()
        time.sleep(1.5)  # a heartbeat or two: the slots' PSS figures are fresh
        idle_pss = max([w["pss_bytes"] for w in probe.status()["workers"]] + [smaps_rollup(p)["Pss"] for p in probe.worker_pids()])
    finally:
        probe.stop()
    hard = idle_pss + (16 << 20)
    supervisor = Supervisor(BINARY, repository, sockets, 2, os.path.join(folder, "supervisor-hard.log"), extra=["--hard-limit", f"{hard >> 20}MB"])
    nginx = None
    try:
        pids = [w["pid"] for w in supervisor.wait_ready()["workers"]]
        nginx = Nginx(os.path.join(folder, "nginx-budget"), sockets, 2)
        stream = Stream(nginx, [("search_codebase", {"path": repository, "query": "cache", "mode": "keyword"})], clients=1)
        connection = UnixHTTPConnection(os.path.join(sockets, "worker-0.sock"), timeout=120)
        check(call_ok(*tool_call(connection, "search_codebase", {"path": repository, "query": "bounded cache"})), "worker 0 answers a semantic search")
        connection.close()
        restarted = wait_until(lambda: (lambda w: w["pid"] != pids[0] and w["state"] == "ready")(supervisor.status()["workers"][0]), 30)
        check(restarted is not None, f"a worker over its hard limit ({hard >> 20} MiB) is restarted")
        check(supervisor.status()["workers"][1]["pid"] == pids[1], "the other worker keeps running")
        time.sleep(0.5)
        ok, failures = stream.stop()
        check(ok > 0 and not failures, f"the others kept serving: {ok} answered, failures {failures[:3]}")
        figures["budgets"] = {"idle_pss_bytes": idle_pss, "hard_limit_bytes": hard, "restart_seconds": round(restarted, 3)}
        say(f"budgets: soft-limit cleanups acknowledged; worker over the {hard >> 20} MiB hard limit restarted in {restarted:.2f} s; {ok} requests, 0 failed")
    finally:
        if nginx:
            nginx.stop()
        supervisor.stop()


def numa_plan(folder, repository):
    sockets = os.path.join(folder, "sockets-numa")
    supervisor = Supervisor(BINARY, repository, sockets, 4, os.path.join(folder, "supervisor-numa.log"),
                            env={"HWLOC_SYNTHETIC": "pack:2 numa:1 core:2 pu:1"})
    try:
        status = supervisor.wait_ready()
        nodes = [w["numa_node"] for w in status["workers"]]
        check(status["supervisor"]["numa_nodes"] == 2, "the synthetic topology has two nodes")
        check(nodes == [0, 1, 0, 1], f"workers are spread over both nodes: {nodes}")
        text = subprocess.run([BINARY, "status", "--socket-dir", sockets], capture_output=True, text=True).stdout
        check("2 NUMA node(s)" in text, "codesage status shows the plan")
        figures["numa_plan"] = nodes
        say(f"NUMA: synthetic two-node topology, workers on nodes {nodes}")
    finally:
        supervisor.stop()


def sigterm_while_indexing(folder):
    """SIGTERM while the supervisor builds the first index: the builder is stopped, no worker starts, exit 0."""
    repository = os.path.join(folder, "repository-slow")
    os.makedirs(os.path.join(repository, "src"))
    for i in range(400):  # some seconds of embedding for a debug build
        with open(os.path.join(repository, "src", f"m{i}.py"), "w") as f:
            f.write(f"def function_{i}(value):\n    \"\"\"Return value plus {i}.\"\"\"\n    return value + {i}\n")
    sockets = os.path.join(folder, "sockets-indexing")
    os.makedirs(sockets)
    log = open(os.path.join(folder, "supervisor-indexing.log"), "wb")
    process = subprocess.Popen([BINARY, "supervise", "--path", repository, "--socket-dir", sockets, "--workers", "2"],
                               stdout=log, stderr=log)
    try:
        builder = wait_until(lambda: any("\0index\0" in child_command(pid) for pid in children(process.pid)), 30)
        check(builder is not None, "the supervisor starts `codesage index` for an unindexed root")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(20)
        elapsed = time.monotonic() - started
        check(code == 0, f"SIGTERM during the initial index build exits 0 (got {code})")
        check(not [n for n in os.listdir(sockets) if n.endswith(".sock")], "no worker was started")
        say(f"SIGTERM while indexing: stopped in {elapsed:.2f} s")
        figures["sigterm_while_indexing_seconds"] = round(elapsed, 3)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def children(pid):
    """The pids whose parent is `pid`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def child_command(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def main():
    folder = tempfile.mkdtemp(prefix="codesage-sv-")
    try:
        repository = os.path.join(folder, "repository")
        make_repository(repository)
        started = time.monotonic()
        sigterm_while_indexing(folder)
        reload_under_load(folder, repository)
        budgets(folder, repository)
        numa_plan(folder, repository)
        sharing_and_faults(folder)
        print(f"supervisor tests: {checks} checks passed in {time.monotonic() - started:.0f} s", flush=True)
        if REPORT:
            with open(REPORT, "w") as f:
                json.dump(figures, f, indent=2)
    except SystemExit:
        for name in sorted(os.listdir(folder)):
            if name.endswith(".log"):
                with open(os.path.join(folder, name), errors="replace") as f:
                    print(f"--- {name} (last lines)\n" + "".join(f.readlines()[-25:]), flush=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
