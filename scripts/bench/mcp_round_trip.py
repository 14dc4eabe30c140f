"""tools/call semantic_search_codebase round trips over a Unix socket: sequential, then 8 concurrent clients."""
import json, os, subprocess, sys, tempfile, time
import anyio, httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

binary, root, queries_path, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
queries = [json.loads(line)["query"] for line in open(queries_path)]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


async def client_run(socket_path, count, offset, latencies):
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


async def main():
    folder = tempfile.mkdtemp(prefix="codesage-bench-mcp-")
    socket_path = os.path.join(folder, "codesage.sock")
    server = subprocess.Popen([binary, "serve", "--unix", socket_path], stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if os.path.exists(socket_path):
                break
            await anyio.sleep(0.05)
        warm = []
        await client_run(socket_path, 5, 0, warm)  # loads the model and opens the index
        sequential = []
        await client_run(socket_path, calls, 0, sequential)
        print(f"sequential: {len(sequential)} calls, p50 {percentile(sequential, 0.5):.2f} ms, p99 {percentile(sequential, 0.99):.2f} ms")
        concurrent = []
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for c in range(8):
                group.start_soon(client_run, socket_path, calls // 8, c * 17, concurrent)
        elapsed = time.perf_counter() - started
        print(f"8 concurrent clients: {len(concurrent)} calls in {elapsed:.1f} s ({len(concurrent) / elapsed:.1f} calls/s), "
              f"p50 {percentile(concurrent, 0.5):.2f} ms, p99 {percentile(concurrent, 0.99):.2f} ms")
    finally:
        server.terminate()
        server.wait(10)


anyio.run(main)
