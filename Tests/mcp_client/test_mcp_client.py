"""Drives `codesage serve` with the official MCP Python SDK (PyPI `mcp`) over stdio, Streamable HTTP on
TCP and Streamable HTTP on a Unix socket: initialize, tools/list, every tool on a small repository with its
answers checked, bad input, a client that disconnects mid-call, two clients at once, /metrics, 413, the
bearer token. Run by scripts/test: python3 test_mcp_client.py PATH/TO/codesage
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import anyio
import httpx2
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

BINARY = os.path.abspath(sys.argv[1])
TOOLS = {
    "index_codebase", "semantic_search_codebase", "search_codebase", "find_duplicate_code", "read_code_file",
    "get_file_structure", "list_undocumented_functions", "count_lines_of_code", "get_dependencies_overview",
    "get_memory_stats", "get_cache_statistics", "get_performance_metrics", "get_configuration", "clear_cache",
}
FILES = {
    "pkg/cli.py": 'import os\nimport requests\n\n\ndef parse_arguments(argv):\n    """Turn argv into options."""\n'
                  "    options = {}\n    for word in argv:\n        options[word] = True\n    return options\n\n\n"
                  "def load_settings(path):\n    return open(path).read()\n",
    "pkg/net.go": 'package net\n\nimport "github.com/spf13/cobra"\n\n// OpenSocket dials an address.\n'
                  "func OpenSocket(address string) error {\n\treturn dial(address)\n}\n",
    "lib/copy_a.py": "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n",
    "lib/copy_b.py": "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n",
}
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(what)


def text_of(result):
    return result.content[0].text if result.content else ""


def make_repository(folder):
    root = os.path.join(folder, "repo")
    for path, text in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    with open(os.path.join(folder, "outside.txt"), "w") as f:
        f.write("secret\n")
    os.symlink("/etc", os.path.join(root, "escape"))
    return root


async def exercise(session, root, label):
    """Every tool once, answers checked."""
    init = await session.initialize()
    check(init.server_info.name == "codesage", f"{label}: server name")
    tools = (await session.list_tools()).tools
    names = {t.name for t in tools}
    check(TOOLS <= names, f"{label}: tools/list lacks {TOOLS - names}")
    check(all(t.input_schema.get("type") == "object" and t.description for t in tools), f"{label}: schemas and descriptions")

    r = await session.call_tool("index_codebase", {"path": root})
    check(not r.is_error and "4 files" in text_of(r), f"{label}: index_codebase: {text_of(r)}")
    check(r.structured_content["state"] == "done" and r.structured_content["report"]["chunks"] >= 5, f"{label}: index report")

    r = await session.call_tool("semantic_search_codebase", {"path": root, "query": "turn command line words into options"})
    check(text_of(r).startswith("1. pkg/cli.py:5-10 parse_arguments"), f"{label}: semantic: {text_of(r)}")
    first = r.structured_content["results"][0]
    check(first["path"] == "pkg/cli.py" and first["start_line"] == 5 and first["stale"] is False, f"{label}: structured result")

    r = await session.call_tool("search_codebase", {"path": root, "query": "open a socket to an address"})
    check(text_of(r).startswith("1. pkg/net.go"), f"{label}: hybrid: {text_of(r)}")
    r = await session.call_tool("search_codebase", {"path": root, "query": "OpenSocket", "mode": "keyword", "file_types": ["go"]})
    check(text_of(r).startswith("1. pkg/net.go:5-8 OpenSocket"), f"{label}: keyword: {text_of(r)}")
    r = await session.call_tool("search_codebase", {"path": root, "query": r"return\s+dial", "mode": "regex", "context_lines": 1})
    check(r.structured_content["matches"][0]["line"] == 7 and r.structured_content["matches"][0]["before"] == ["func OpenSocket(address string) error {"],
          f"{label}: regex: {text_of(r)}")
    r = await session.call_tool("search_codebase", {"path": root, "query": "x", "mode": "regex", "exclude_patterns": ["pkg/"], "limit": 5})
    check(all(not m["path"].startswith("pkg/") for m in r.structured_content["matches"]), f"{label}: exclude_patterns")

    r = await session.call_tool("find_duplicate_code", {"path": root, "threshold": 0.9})
    pair = r.structured_content["pairs"][0]
    check({pair["first"]["path"], pair["second"]["path"]} == {"lib/copy_a.py", "lib/copy_b.py"} and pair["similarity"] > 0.95,
          f"{label}: duplicates: {text_of(r)}")

    r = await session.call_tool("read_code_file", {"path": root, "file": "pkg/net.go", "start_line": 6, "end_line": 7})
    check(text_of(r) == "6\tfunc OpenSocket(address string) error {\n7\t\treturn dial(address)", f"{label}: read: {text_of(r)!r}")
    for hostile in ["../outside.txt", "/etc/passwd", "escape/passwd", "pkg/../../outside.txt"]:
        r = await session.call_tool("read_code_file", {"path": root, "file": hostile})
        check(r.is_error and "secret" not in text_of(r), f"{label}: read_code_file served {hostile}")

    r = await session.call_tool("get_file_structure", {"path": root, "file": "pkg/cli.py"})
    names = [d["name"] for d in r.structured_content["definitions"]]
    check(names == ["parse_arguments", "load_settings"], f"{label}: structure: {names}")
    r = await session.call_tool("list_undocumented_functions", {"path": root})
    undocumented = {i["qualified_name"] for i in r.structured_content["items"]}
    check("load_settings" in undocumented and "parse_arguments" not in undocumented and "OpenSocket" not in undocumented,
          f"{label}: undocumented: {undocumented}")
    r = await session.call_tool("count_lines_of_code", {"path": root})
    rows = {row["language"]: row for row in r.structured_content["languages"]}
    check(rows["python"]["files"] == 3 and rows["go"]["lines"]["code"] == 5 and rows["go"]["lines"]["comment"] == 1, f"{label}: lines: {rows}")
    r = await session.call_tool("get_dependencies_overview", {"path": root})
    packages = {p["name"] for p in r.structured_content["external_packages"]}
    check({"requests", "github.com/spf13/cobra"} <= packages and "os" not in packages, f"{label}: dependencies: {packages}")

    r = await session.call_tool("get_memory_stats", {})
    check(r.structured_content["rss_mb"] > 10 and r.structured_content["model_cache_stats"]["loaded"] is True, f"{label}: memory: {text_of(r)}")
    r = await session.call_tool("get_cache_statistics", {})
    check(r.structured_content["indexes"][0]["embedding_cache_entries"] >= 5, f"{label}: caches: {text_of(r)}")
    r = await session.call_tool("get_performance_metrics", {})
    calls = {t["name"]: t for t in r.structured_content["tools"]}
    check(calls["search_codebase"]["requests"] == 4 and calls["read_code_file"]["errors"] == 4, f"{label}: metrics: {text_of(r)}")
    r = await session.call_tool("get_configuration", {"name": "CODESAGE_MAX_FILE_SIZE"})
    check(text_of(r) == "CODESAGE_MAX_FILE_SIZE=1MB (default)", f"{label}: configuration: {text_of(r)}")
    r = await session.call_tool("clear_cache", {})
    check(r.structured_content["model_unloaded"] is True and r.structured_content["snapshots_closed"] == 1, f"{label}: clear: {text_of(r)}")
    r = await session.call_tool("search_codebase", {"path": root, "query": "OpenSocket", "mode": "keyword"})
    check(text_of(r).startswith("1. pkg/net.go"), f"{label}: search after clear_cache")

    # Bad input: an isError result naming the problem; the session goes on.
    r = await session.call_tool("no_such_tool", {})
    check(r.is_error and "unknown tool" in text_of(r), f"{label}: unknown tool")
    r = await session.call_tool("semantic_search_codebase", {"path": root, "query": 42})
    check(r.is_error and 'argument "query"' in text_of(r), f"{label}: wrong type")
    r = await session.call_tool("semantic_search_codebase", {"path": root})
    check(r.is_error and 'argument "query" is required' in text_of(r), f"{label}: missing argument")
    r = await session.call_tool("search_codebase", {"path": "/nonexistent/repo", "query": "x"})
    check(r.is_error and "does not exist" in text_of(r), f"{label}: missing root")
    r = await session.call_tool("get_configuration", {"name": "CODESAGE_MEMORY_LIMIT"})
    check(not r.is_error, f"{label}: still serving")


async def stdio(root):
    params = StdioServerParameters(command=BINARY, args=["serve"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session, root, "stdio")
            # A progress token brings notifications/progress while index_codebase runs, ending at its total.
            updates = []

            async def on_progress(progress, total, message):
                updates.append((progress, total, message))

            r = await session.call_tool("index_codebase", {"path": root, "rebuild": True}, progress_callback=on_progress)
            check(not r.is_error, f"stdio: index with progress: {text_of(r)}")
            for _ in range(50):
                if updates and updates[-1][1] is not None:
                    break
                await anyio.sleep(0.05)
            check(len(updates) >= 2 and updates[-1][0] == updates[-1][1] and updates[-1][2] == "published"
                  and [u[0] for u in updates] == sorted(u[0] for u in updates), f"stdio: progress notifications: {updates}")


async def stdio_session_with(env, body):
    """Runs body(session) against a stdio server started with extra environment variables."""
    params = StdioServerParameters(command=BINARY, args=["serve"], env={**os.environ, **env})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)


async def memory_budget(root):
    """A server whose CODESAGE_MEMORY_LIMIT puts its cleanup threshold just above its idle RSS, hammered with
    distinct queries: the memory manager cleans up (visible in get_memory_stats) and RSS stays under the
    limit plus the documented tolerance (docs/memory.md)."""
    async def idle(session):
        await session.call_tool("index_codebase", {"path": root})
        await session.call_tool("semantic_search_codebase", {"path": root, "query": "warm up"})
        return (await session.call_tool("get_memory_stats", {})).structured_content["rss_mb"]

    idle_rss = await stdio_session_with({}, idle)
    limit_mb = int(idle_rss / 0.9) + 1  # cleanup threshold (90 %) within 1 MB above the idle RSS
    words = ["parse", "socket", "options", "settings", "whitespace", "address", "read", "words", "dial", "load",
             "join", "split", "argv", "path", "error", "text", "open", "command", "line", "network"]

    async def hammer(session):
        peak = 0.0
        for i in range(150):
            query = f"{words[i % 20]} {words[(i * 7 + 3) % 20]} {words[(i * 13 + 5) % 20]} variant {i}"
            r = await session.call_tool("search_codebase", {"path": root, "query": query, "mode": "hybrid"})
            check(not r.is_error, f"budget: search {i}: {text_of(r)}")
            if i % 25 == 24:
                peak = max(peak, (await session.call_tool("get_memory_stats", {})).structured_content["rss_mb"])
        await anyio.sleep(1.5)  # one more check interval
        stats = (await session.call_tool("get_memory_stats", {})).structured_content
        return peak, stats

    peak, stats = await stdio_session_with({"CODESAGE_MEMORY_LIMIT": f"{limit_mb}MB", "CODESAGE_MEMORY_CHECK_INTERVAL": "1"}, hammer)
    manager = stats["memory_manager"]
    check(manager["cleanups"] >= 1 and "limit" in manager["last_cleanup"]["reason"], f"budget: no cleanup: {manager}")
    tolerance = max(16, 0.1 * limit_mb)
    check(peak <= limit_mb + tolerance and stats["rss_mb"] <= limit_mb + tolerance,
          f"budget: RSS peak {peak} MB, now {stats['rss_mb']} MB over the {limit_mb} MB limit + {tolerance}")
    print(f"memory budget: idle {idle_rss} MB, limit {limit_mb} MB, peak {peak} MB, final {stats['rss_mb']} MB, "
          f"{manager['cleanups']} cleanups, last: {manager['last_cleanup']['reason']}", flush=True)


async def model_ttl(root):
    """CODESAGE_MODEL_CACHE_TTL_MINUTES unloads the real model when idle; the next search reloads it."""
    async def body(session):
        await session.call_tool("index_codebase", {"path": root})
        await session.call_tool("semantic_search_codebase", {"path": root, "query": "dial an address"})
        loaded = (await session.call_tool("get_memory_stats", {})).structured_content["model_cache_stats"]
        check(loaded["loaded"] is True and loaded["bytes_mapped"] > 80_000_000, f"ttl: model not loaded: {loaded}")
        for _ in range(100):
            await anyio.sleep(0.1)
            model = (await session.call_tool("get_memory_stats", {})).structured_content["model_cache_stats"]
            if not model["loaded"]:
                break
        check(model["loaded"] is False and model["unloads"] == 1 and model["bytes_mapped"] == 0, f"ttl: not unloaded: {model}")
        r = await session.call_tool("semantic_search_codebase", {"path": root, "query": "words into options"})
        check(text_of(r).startswith("1. pkg/cli.py"), f"ttl: search after unload: {text_of(r)}")
        model = (await session.call_tool("get_memory_stats", {})).structured_content["model_cache_stats"]
        check(model["loads"] == 2 and model["unloads"] >= 1, f"ttl: not reloaded: {model}")

    await stdio_session_with({"CODESAGE_MODEL_CACHE_TTL_MINUTES": "0.03"}, body)


def start_http(args, env=None):
    process = subprocess.Popen([BINARY, "serve", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})})
    return process


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_client(uds=None, headers=None):
    transport = httpx2.AsyncHTTPTransport(uds=uds) if uds else None
    return httpx2.AsyncClient(transport=transport, headers=headers or {}, timeout=httpx2.Timeout(120))


async def wait_healthy(url, uds=None):
    async with http_client(uds) as client:
        for _ in range(300):
            try:
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            except Exception:
                pass
            await anyio.sleep(0.05)
    raise AssertionError(f"no /healthz at {url}")


async def http_session(url, uds, root, label, headers=None):
    async with http_client(uds, headers) as client:
        async with streamable_http_client(url + "/mcp", http_client=client) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await exercise(session, root, label)


async def http_extras(url, uds, root, label):
    """Raw HTTP checks, a client that disconnects mid-call, and two clients at once."""
    async with http_client(uds) as client:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        r = await client.post(url + "/mcp", content=b'{"jsonrpc": "2.0", "id": 1, "method": ', headers=headers)
        body = r.json()
        check(body.get("error", {}).get("code") == -32700, f"{label}: malformed JSON gives a parse error: {r.status_code} {r.text}")
        r = await client.post(url + "/mcp", content=b"[" + b" " * (1 << 20) + b"]", headers=headers)
        check(r.status_code == 413, f"{label}: oversize body: {r.status_code}")
        r = await client.get(url + "/metrics")
        check(r.status_code == 200 and 'codesage_tool_requests_total{tool="search_codebase"}' in r.text
              and "codesage_tool_duration_seconds_bucket" in r.text and "codesage_memory_rss_bytes" in r.text, f"{label}: /metrics")

    # A client that goes away in the middle of a slow call. Raw HTTP: the SDK's client, cancelled
    # mid-call, can itself raise BrokenResourceError when the answer lands after its streams closed.
    async with http_client(uds) as client:
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}
        r = await client.post(url + "/mcp", json=hello, headers=headers)
        check(r.status_code == 200 and "result" in r.json(), f"{label}: raw initialize: {r.status_code} {r.text}")
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "index_codebase", "arguments": {"path": root, "rebuild": True}}}
        try:
            await client.post(url + "/mcp", json=call, headers=headers, timeout=0.3)
        except httpx2.TimeoutException:
            pass

    # Two clients at the same time; the server still answers both.
    async def one(i):
        async with http_client(uds) as client:
            async with streamable_http_client(url + "/mcp", http_client=client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    r = await session.call_tool("search_codebase", {"path": root, "query": "OpenSocket", "mode": "keyword"})
                    check(text_of(r).startswith("1. pkg/net.go"), f"{label}: concurrent client {i}")

    async with anyio.create_task_group() as group:
        for i in range(2):
            group.start_soon(one, i)


async def http_tcp(root):
    port = free_port()
    process = start_http(["--http", f"127.0.0.1:{port}"])
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url)
        await http_session(url, None, root, "tcp")
        await http_extras(url, None, root, "tcp")
        check(process.poll() is None, "tcp: the server survived")
    finally:
        process.terminate()
        process.wait(10)


async def http_unix(root, folder):
    path = os.path.join(folder, "codesage.sock")
    process = start_http(["--unix", path])
    try:
        await wait_healthy("http://localhost", path)
        check(oct(os.stat(path).st_mode & 0o777) == "0o600", "unix: socket mode 0600")
        await http_session("http://localhost", path, root, "unix")
        await http_extras("http://localhost", path, root, "unix")
        check(process.poll() is None, "unix: the server survived")
    finally:
        process.terminate()
        process.wait(10)


async def http_token(root):
    port = free_port()
    process = start_http(["--http", f"127.0.0.1:{port}"], env={"CODESAGE_AUTH_TOKEN": "s3cret-token"})
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url)
        async with http_client() as client:
            r = await client.post(url + "/mcp", content=b"{}", headers={"Content-Type": "application/json"})
            check(r.status_code == 401, f"token: no token gives 401, got {r.status_code}")
            r = await client.get(url + "/metrics", headers={"Authorization": "Bearer wrong-token!"})
            check(r.status_code == 401, "token: wrong token gives 401")
        async with http_client(headers={"Authorization": "Bearer s3cret-token"}) as client:
            async with streamable_http_client(url + "/mcp", http_client=client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    r = await session.call_tool("get_configuration", {"name": "CODESAGE_AUTH_TOKEN"})
                    check(not r.is_error and "s3cret" not in text_of(r), f"token: works with the token, value hidden: {text_of(r)}")
    finally:
        process.terminate()
        process.wait(10)


MODERN = "2026-07-28"


def modern_request(rid, method, params=None, caps=True):
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}}
    if caps:
        meta["io.modelcontextprotocol/clientCapabilities"] = {}
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": {**(params or {}), "_meta": meta}}


async def http_modern(root):
    """MCP 2026-07-28 (stateless, no initialize) with the official client's modern mode, then the revision's rules raw."""
    port = free_port()
    process = start_http(["--http", f"127.0.0.1:{port}"])
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url)
        async with Client(url + "/mcp") as client:  # mode="auto": server/discover first, modern when answered
            check(client.protocol_version == MODERN, f"modern: negotiated {client.protocol_version}")
            check(client.server_info is not None and client.server_info.name == "codesage", f"modern: serverInfo in _meta: {client.server_info}")
            tools = (await client.list_tools()).tools
            check([t.name for t in tools][:3] == ["index_codebase", "semantic_search_codebase", "search_codebase"] and len(tools) == 15,
                  f"modern: tools in the table's order: {[t.name for t in tools]}")
            index = next(t for t in tools if t.name == "index_codebase")
            clear = next(t for t in tools if t.name == "clear_cache")
            search = next(t for t in tools if t.name == "search_codebase")
            check(index.annotations.read_only_hint is False and index.annotations.idempotent_hint is True
                  and index.annotations.destructive_hint is False, f"modern: index_codebase annotations: {index.annotations}")
            check(search.annotations.read_only_hint is True and clear.annotations.read_only_hint is False, "modern: read-only hints")
            r = await client.call_tool("search_codebase", {"path": root, "query": "OpenSocket", "mode": "keyword"})
            check(not r.is_error and text_of(r).startswith("1. pkg/net.go"), f"modern: keyword search: {text_of(r)[:200]}")
            seen = []

            async def progress(value, total, message):
                seen.append((value, total, message))

            r = await client.call_tool("index_codebase", {"path": root, "rebuild": True}, progress_callback=progress)
            check(not r.is_error and "done" in text_of(r), f"modern: index_codebase: {text_of(r)[:200]}")
            values = [v for v, _, _ in seen]
            check(len(seen) >= 2 and values == sorted(values) and len(set(values)) == len(values) and seen[-1][2] == "published",
                  f"modern: progress over the request's SSE stream, increasing, ending at published: {seen}")

        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}
        async with http_client() as http:
            async def post(body, extra=None, drop=()):
                h = {k: v for k, v in {**headers, **(extra or {})}.items() if k not in drop}
                r = await http.post(url + "/mcp", content=json.dumps(body).encode(), headers=h)
                return r.status_code, (r.json() if r.content else None), r.headers
            status, body, _ = await post(modern_request(1, "server/discover"), {"Mcp-Method": "server/discover"})
            result = body.get("result", {})
            check(status == 200 and MODERN in result.get("supportedVersions", []) and "2025-06-18" in result["supportedVersions"]
                  and result.get("resultType") == "complete" and result.get("ttlMs", -1) >= 0 and result.get("cacheScope") in ("public", "private")
                  and "tools" in result.get("capabilities", {}), f"modern: server/discover: {body}")
            status, body, _ = await post(modern_request("list-1", "tools/list"))
            result = body.get("result", {})
            check(status == 200 and body.get("id") == "list-1" and len(result.get("tools", [])) == 15 and result.get("cacheScope")
                  and "ttlMs" in result and result.get("resultType") == "complete", f"modern: tools/list: {str(body)[:300]}")
            for rid in ["a string id", 12345678901234, 7]:
                status, body, _ = await post(modern_request(rid, "tools/list"))
                check(body.get("id") == rid and type(body.get("id")) is type(rid), f"modern: id {rid!r} preserved: {body.get('id')!r}")
            status, body, _ = await post(modern_request(2, "tools/list"), drop=("MCP-Protocol-Version",))
            check(status == 400 and body["error"]["code"] == -32020, f"modern: a missing MCP-Protocol-Version is refused: {status} {body}")
            status, body, _ = await post(modern_request(3, "tools/list"), {"Mcp-Method": "tools/call"})
            check(status == 400 and body["error"]["code"] == -32020 and body["id"] == 3, f"modern: Mcp-Method mismatch: {status} {body}")
            call = modern_request(4, "tools/call", {"name": "get_configuration", "arguments": {}})
            status, body, _ = await post(call, {"Mcp-Method": "tools/call", "Mcp-Name": "clear_cache"})
            check(status == 400 and body["error"]["code"] == -32020, f"modern: Mcp-Name mismatch: {status} {body}")
            status, body, _ = await post(call, {"Mcp-Method": "tools/call", "Mcp-Name": "=?base64?Z2V0X2NvbmZpZ3VyYXRpb24=?="})
            check(status == 200 and body["result"]["isError"] is False, f"modern: a base64-encoded Mcp-Name is decoded: {status} {str(body)[:200]}")
            odd = modern_request(5, "tools/list")
            odd["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "1900-01-01"
            status, body, _ = await post(odd, {"MCP-Protocol-Version": "1900-01-01"})
            check(status == 400 and body["error"]["code"] == -32022 and MODERN in body["error"]["data"]["supported"]
                  and body["error"]["data"]["requested"] == "1900-01-01", f"modern: unsupported version: {status} {body}")
            status, body, _ = await post(modern_request(6, "tools/list", caps=False))
            check(status == 400 and body["error"]["code"] == -32602, f"modern: missing clientCapabilities: {status} {body}")
            status, body, _ = await post(modern_request(7, "no/such/method"), {"Mcp-Method": "no/such/method"})
            check(status == 404 and body["error"]["code"] == -32601, f"modern: unknown method: {status} {body}")
            note = modern_request(0, "notifications/progress")
            del note["id"]
            status, body, _ = await post(note, {"Mcp-Method": "notifications/progress"})
            check(status == 202 and body is None, f"modern: a notification gets 202 and no body: {status} {body}")
            r = await http.post(url + "/mcp", content=b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]', headers=headers)
            check(r.status_code == 400 and r.json()["error"]["code"] == -32600, f"modern: a batch is refused: {r.status_code} {r.text}")
            for verb in ("GET", "DELETE"):
                r = await http.request(verb, url + "/mcp", headers=headers)
                check(r.status_code == 405, f"modern: {verb} /mcp gives 405: {r.status_code}")
    finally:
        process.terminate()
        process.wait(10)


async def http_sigterm(root, folder):
    """SIGTERM to `serve --http` with requests in flight: each is answered, then the server exits 0."""
    trees = []
    for t in range(2):
        tree = os.path.join(folder, f"drain-{t}")
        for i in range(120):
            os.makedirs(os.path.join(tree, "src"), exist_ok=True)
            with open(os.path.join(tree, "src", f"mod_{i}.py"), "w") as f:
                f.write(f"def handler_{t}_{i}(request):\n    \"\"\"Serve request {i} of tree {t}.\"\"\"\n"
                        f"    return request.reply({i} * {t + 1})\n")
        trees.append(tree)
    path = os.path.join(folder, "drain.sock")
    process = start_http(["--unix", path])
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    answers, finished_at = {}, {}
    try:
        await wait_healthy("http://localhost", path)

        async def call(key, name, arguments):
            async with http_client(path) as client:
                body = {"jsonrpc": "2.0", "id": key, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
                r = await client.post("http://localhost/mcp", json=body, headers=headers)
                answers[key] = (r.status_code, r.json())
                finished_at[key] = time.monotonic()

        async with http_client(path) as client:
            hello = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                     "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "drain", "version": "1"}}}
            check((await client.post("http://localhost/mcp", json=hello, headers=headers)).status_code == 200, "sigterm: initialize")
        async with anyio.create_task_group() as group:
            for t, tree in enumerate(trees):
                group.start_soon(call, 10 + t, "index_codebase", {"path": tree})
            for i in range(4):
                group.start_soon(call, 20 + i, "search_codebase", {"path": root, "query": "OpenSocket", "mode": "keyword"})
            # Signal as soon as both runs have begun (their index folders appear): they are in flight then.
            for _ in range(400):
                if all(os.path.isdir(os.path.join(tree, ".codesage")) for tree in trees):
                    break
                await anyio.sleep(0.01)
            signalled = time.monotonic()
            process.terminate()
        code = process.wait(30)
        check(code == 0, f"sigterm: the server exits 0 after draining, got {code}: {process.stderr.read().decode()[-2000:]}")
        for key, (status, body) in sorted(answers.items()):
            result = body.get("result", {})
            check(status == 200 and not result.get("isError"), f"sigterm: request {key} answered: {status} {str(body)[:300]}")
        check(len(answers) == 6, f"sigterm: every request answered ({len(answers)} of 6)")
        late = [key for key in (10, 11) if finished_at[key] > signalled]
        check(late, "sigterm: an index run was still in flight when the signal came (the test proves nothing otherwise)")
        check(not os.path.exists(path) or not await healthy_once(path), "sigterm: nothing listens after exit")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def stdio_sigterm(folder):
    """SIGTERM to `serve` over stdio with an index run in flight: it answers, then the server exits 0."""
    tree = os.path.join(folder, "drain-stdio")
    os.makedirs(os.path.join(tree, "src"))
    for i in range(120):
        with open(os.path.join(tree, "src", f"mod_{i}.py"), "w") as f:
            f.write(f"def stdio_handler_{i}(request):\n    \"\"\"Serve request {i} over stdio.\"\"\"\n    return request.reply({i})\n")
    process = subprocess.Popen([BINARY, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        def send(message):
            process.stdin.write((json.dumps(message) + "\n").encode())
            process.stdin.flush()
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "drain", "version": "1"}}})
        check(json.loads(process.stdout.readline()).get("id") == 1, "stdio sigterm: initialize answered")
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "index_codebase", "arguments": {"path": tree}}})
        for _ in range(1000):
            if os.path.isdir(os.path.join(tree, ".codesage")):
                break
            time.sleep(0.01)
        check(os.path.isdir(os.path.join(tree, ".codesage")), "stdio sigterm: the index run began")
        process.send_signal(signal.SIGTERM)
        answer = None
        while answer is None:
            line = process.stdout.readline()
            if not line:
                break
            message = json.loads(line)
            if message.get("id") == 2:
                answer = message
        result = (answer or {}).get("result", {})
        check(answer is not None and not result.get("isError") and "done" in result["content"][0]["text"],
              f"stdio sigterm: the call in flight is answered after SIGTERM: {str(answer)[:300]}")
        code = process.wait(30)
        check(code == 0, f"stdio sigterm: the server exits 0 after draining, got {code}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def healthy_once(uds):
    try:
        async with http_client(uds) as client:
            return (await client.get("http://localhost/healthz", timeout=1)).status_code == 200
    except Exception:
        return False


async def main():
    folder = tempfile.mkdtemp(prefix="codesage-mcp-")
    try:
        root = make_repository(folder)
        for name, run in [("stdio", lambda: stdio(root)), ("tcp", lambda: http_tcp(root)),
                          ("unix", lambda: http_unix(root, folder)), ("token", lambda: http_token(root)),
                          ("HTTP, MCP 2026-07-28", lambda: http_modern(root)),
                          ("HTTP, SIGTERM with requests in flight", lambda: http_sigterm(root, folder)),
                          ("stdio, SIGTERM with a call in flight", lambda: stdio_sigterm(folder)),
                          ("stdio, model TTL", lambda: model_ttl(root)), ("stdio, memory budget", lambda: memory_budget(root))]:
            started = time.monotonic()
            await run()
            print(f"mcp client over {name}: ok ({time.monotonic() - started:.1f} s)", flush=True)
        print(f"mcp client tests: {checks} checks passed")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    anyio.run(main)
