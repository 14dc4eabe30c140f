"""tools/call semantic_search_codebase round trips over a Unix socket, for one or more server binaries side by
side: the official MCP Python client (sequential, then 8 concurrent clients) and raw HTTP/1.1 keep-alive POSTs
(the same, with the client's own cost as small as Python allows). Binaries are measured in interleaved rounds
(A B A B ...) so that the machine's noise falls on all of them alike.

Usage: mcp_round_trip.py ROOT QUERIES CALLS ROUNDS LABEL=BINARY [LABEL=BINARY ...]
"""
import json, os, statistics, subprocess, sys, tempfile, time
import anyio, httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

root, queries_path, calls, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
binaries = [arg.split("=", 1) for arg in sys.argv[5:]]
queries = [json.loads(line)["query"] for line in open(queries_path)]
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


async def sdk_client(socket_path, count, offset, latencies):
    async with httpx2.AsyncClient(transport=httpx2.AsyncHTTPTransport(uds=socket_path), timeout=120) as http:
        async with streamable_http_client("http://localhost/mcp", http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for i in range(count):
                    query = queries[(offset + i) % len(queries)]
                    started = time.perf_counter()
                    result = await session.call_tool("semantic_search_codebase", {"path": root, "query": query, "limit": 10})
                    latencies.append((time.perf_counter() - started) * 1000)
                    assert not result.is_error, result.content[0].text


async def raw_client(socket_path, count, offset, latencies):
    async with httpx2.AsyncClient(transport=httpx2.AsyncHTTPTransport(uds=socket_path), timeout=120) as http:
        hello = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
        assert (await http.post("http://localhost/mcp", json=hello, headers=HEADERS)).status_code == 200
        for i in range(count):
            query = queries[(offset + i) % len(queries)]
            body = json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": {
                "name": "semantic_search_codebase", "arguments": {"path": root, "query": query, "limit": 10}}}).encode()
            started = time.perf_counter()
            r = await http.post("http://localhost/mcp", content=body, headers=HEADERS)
            latencies.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200 and '"isError":false' in r.text.replace(" ", ""), r.text[:300]


async def measure(binary, results):
    folder = tempfile.mkdtemp(prefix="codesage-bench-mcp-")
    socket_path = os.path.join(folder, "codesage.sock")
    server = subprocess.Popen([binary, "serve", "--unix", socket_path], stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if os.path.exists(socket_path):
                break
            await anyio.sleep(0.05)
        await sdk_client(socket_path, 5, 0, [])  # loads the model and opens the index
        for name, client in [("sdk", sdk_client), ("raw", raw_client)]:
            sequential = []
            await client(socket_path, calls, 0, sequential)
            results.setdefault((name, "sequential"), []).append((percentile(sequential, 0.5), percentile(sequential, 0.99), None))
            concurrent = []
            started = time.perf_counter()
            async with anyio.create_task_group() as group:
                for c in range(8):
                    group.start_soon(client, socket_path, calls // 8, c * 17, concurrent)
            elapsed = time.perf_counter() - started
            results.setdefault((name, "8 clients"), []).append(
                (percentile(concurrent, 0.5), percentile(concurrent, 0.99), len(concurrent) / elapsed))
    finally:
        server.terminate()
        server.wait(10)


async def main():
    results = {label: {} for label, _ in binaries}
    for r in range(rounds):
        for label, binary in binaries:
            await measure(binary, results[label])
            print(f"round {r + 1}: {label} done", file=sys.stderr, flush=True)
    print(f"{calls} calls per run, {rounds} rounds interleaved; medians over the rounds")
    print("| client | load | " + " | ".join(f"{label} p50 | {label} p99 | {label} calls/s" for label, _ in binaries) + " |")
    print("|---|---|" + "---|---|---|" * len(binaries))
    for key in [("sdk", "sequential"), ("sdk", "8 clients"), ("raw", "sequential"), ("raw", "8 clients")]:
        cells = []
        for label, _ in binaries:
            runs = results[label][key]
            p50 = statistics.median(r[0] for r in runs)
            p99 = statistics.median(r[1] for r in runs)
            rate = statistics.median(r[2] for r in runs) if runs[0][2] is not None else None
            cells += [f"{p50:.2f} ms", f"{p99:.2f} ms", f"{rate:.1f}" if rate else "–"]
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")


anyio.run(main)
