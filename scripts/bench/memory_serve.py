"""Memory of `codesage serve` as the kernel reports it (get_memory_stats reads /proc/self/status and
smaps_rollup): started, ready (model loaded, index open, one search), and after N distinct searches.
Prints one JSON object. Usage: memory_serve.py BINARY ROOT QUERIES.jsonl N [KEY=VALUE ...] (environment)."""
import json, os, sys
import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

binary, root, queries_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
env = dict(item.split("=", 1) for item in sys.argv[5:])
base = [json.loads(line)["query"] for line in open(queries_path)]
suffixes = ["", " in the module", " helper", " for the command line", " with options", " and return it", " quickly",
            " from a file", " for tests", " safely"]
queries = [q + suffixes[(i // len(base)) % len(suffixes)] for i, q in enumerate(base * (count // len(base) + 1))][:count]


def figures(stats):
    keys = ["rss_mb", "pss_mb", "uss_mb", "shared_mb", "peak_rss_mb"]
    out = {k: stats[k] for k in keys}
    out["model_resident_mb"] = round(stats["model_cache_stats"]["bytes_resident"] / 1048576, 1)
    out["caches_bytes"] = stats["cache_memory_breakdown"]
    return out


async def main():
    params = StdioServerParameters(command=binary, args=["serve"], env={**os.environ, **env})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = {"env": env, "queries": count}
            result["started"] = figures((await session.call_tool("get_memory_stats", {})).structured_content)
            r = await session.call_tool("semantic_search_codebase", {"path": root, "query": "warm up", "limit": 10})
            assert not r.is_error, r.content[0].text
            result["ready"] = figures((await session.call_tool("get_memory_stats", {})).structured_content)
            for query in queries:
                r = await session.call_tool("semantic_search_codebase", {"path": root, "query": query, "limit": 10})
                assert not r.is_error, r.content[0].text
            stats = (await session.call_tool("get_memory_stats", {})).structured_content
            result["after"] = figures(stats)
            result["cleanups"] = stats["memory_manager"]["cleanups"]
            caches = (await session.call_tool("get_cache_statistics", {})).structured_content
            result["cache_entries"] = {c["name"]: {"entries": c["entries"], "bytes": c["bytes"], "bytes_per_entry": c["bytes_per_entry"]}
                                       for c in caches["caches"]}
            result["memory_mapped"] = caches["indexes"][0]["memory_mapped"]
            print(json.dumps(result), flush=True)


anyio.run(main)
