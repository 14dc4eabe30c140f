#!/usr/bin/env python3
"""Cross-check `embed-tool tokenize` against the reference HF fast tokenizer on many texts.

  python3 -m venv .venv && .venv/bin/pip install tokenizers
  swift build -c release && .venv/bin/python scripts/embedding/tokenizer_fuzz.py MODEL_DIR [N]
"""
import json, random, subprocess, sys, glob, os, sysconfig
from tokenizers import Tokenizer

model = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
tok.no_padding()
tok.enable_truncation(max_length=256)

rng = random.Random(42)
pools = [
    (0x20, 0x7E), (0x00, 0x20), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
    (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1FFF),
    (0x2000, 0x206F), (0x2070, 0x2BFF), (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3), (0xE000, 0xF8FF), (0xF900, 0xFAFF), (0xFB00, 0xFFFF), (0x1D400, 0x1D7FF),
    (0x1F300, 0x1FAFF), (0x20000, 0x2FA1F), (0x2B800, 0x2B9FF), (0xE0000, 0xE01EF), (0x10000, 0x10FFFF),
]
def rand_char():
    a, b = rng.choice(pools)
    c = rng.randint(a, b)
    if 0xD800 <= c <= 0xDFFF: c = 0xFFFD
    return chr(c)

texts = []
here = os.path.dirname(os.path.abspath(__file__))
golden = json.load(open(os.path.join(here, "..", "..", "..", "shared", "golden", "minilm_golden_public.json")))
texts += [it["text"] for it in golden["items"]]
# Real code and prose.
files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:200]
for f in files:
    s = open(f, encoding="utf-8", errors="replace").read()
    i = rng.randint(0, max(0, len(s) - 3000))
    texts.append(s[i:i + rng.randint(10, 3000)])
words = ["hello", "World", "İstanbul", "ΣΊΣΥΦΟΣ", "naïve", "café", "Ångström", "straße", "ﬁne",
         "東京", "한국어", "日本語テキスト", "Привет", "مرحبا", "שלום", "👍🏽", "👨‍👩‍👧", "🇫🇷", "e\u0301",
         "a\u0323\u0302", "x" * 101, "y" * 100, "abc" * 40, "\u00a0", "\u2028", "\u200b", "\ufeff", "\t",
         "ǅ", "ᾈ", "K", "Å", "µ", "ß", "İ", "ŉ", "ǰ", "ΐ", "ﬃ", "Ⅻ", "①", "㎒", "…", "«»", "¿¡",
         "getUserById", "snake_case_name", "0x1F", "3.14159", "i++", "->", "::", "=>", "\\n"]
for _ in range(n):
    k = rng.random()
    if k < 0.15:
        marks = [0x301, 0x316, 0x345, 0x1D165, 0x1D16D, 0x1D16E, 0xF71, 0xF72, 0xF80, 0x5B0, 0x93C, 0x94D, 0x93F, 0x1DCE, 0x302, 0x323]
        t = "".join(rng.choice("aeoAE\u0915\u0f40k") + "".join(chr(rng.choice(marks)) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 10)))
    elif k < 0.4:
        t = "".join(rand_char() for _ in range(rng.randint(0, 40)))
    elif k < 0.8:
        t = " ".join(rng.choice(words) + (rand_char() if rng.random() < 0.3 else "") for _ in range(rng.randint(1, 20)))
    else:
        t = "".join(rng.choice(words) for _ in range(rng.randint(1, 200)))
    texts.append(t)
texts.append("word " * 300)
texts.append("a" * 1_000_000)
texts.append(("ab " * 400_000))

out = subprocess.run([".build/release/codesage", "tokenize", "--model", model],
                     input=json.dumps(texts).encode(), capture_output=True)
if out.returncode != 0:
    print(out.stderr.decode()); sys.exit(1)
got = json.loads(out.stdout)
bad = 0
for t, g in zip(texts, got):
    e = tok.encode(t)
    if e.ids != g["input_ids"] or (len(e.overflowing) > 0) != g["truncated"]:
        bad += 1
        if bad <= 10:
            print("MISMATCH", repr(t[:200]))
            print("  ref ", e.ids[:40], e.tokens[:40])
            print("  got ", g["input_ids"][:40], len(e.overflowing) > 0, g["truncated"])
print(f"{len(texts) - bad} passed, {bad} failed")
