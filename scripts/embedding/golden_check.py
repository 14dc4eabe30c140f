#!/usr/bin/env python3
"""Compare `codesage embed` with the golden file: ids, cosine, max abs diff."""
import json, subprocess, sys, math
golden = json.load(open(sys.argv[1]))
extra = sys.argv[2:]
items = golden["items"]
out = subprocess.run([".build/release/codesage", "embed"] + extra, input=json.dumps([i["text"] for i in items]).encode(), capture_output=True)
sys.stderr.write(out.stderr.decode())
got = json.loads(out.stdout)
worst_cos, worst_diff, bad = 1.0, 0.0, 0
for it, g in zip(items, got):
    a, b = it["embedding"], g["embedding"]
    cos = sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    diff = max(abs(x - y) for x, y in zip(a, b))
    ok = it["input_ids"] == g["input_ids"]
    bad += not ok
    worst_cos, worst_diff = min(worst_cos, cos), max(worst_diff, diff)
    print(f"ids {'ok ' if ok else 'BAD'} cos {cos:.8f} maxdiff {diff:.2e} len {len(g['input_ids'])} {it['text'][:40]!r}")
print(f"id mismatches {bad}, min cos {worst_cos:.8f}, max diff {worst_diff:.2e}")
