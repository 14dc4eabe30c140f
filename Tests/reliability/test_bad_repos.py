"""Reliability of `codesage index` on bad repositories.

Usage: python3 Tests/reliability/test_bad_repos.py CODESAGE [--report FILE.json] [--keep]

Cases: binary files; a 100 MB (sparse) file and one just over CODESAGE_MAX_FILE_SIZE; 100,000 small files;
deep nesting (300 levels, and one deeper than PATH_MAX); symbolic-link loops, escapes and dangling links;
unreadable files and folders (run as the unprivileged user nobody, since root ignores file modes); files
that change, vanish, or are swapped for a link out of the root or for a FIFO while `codesage index` runs;
file names that are not UTF-8. For each: indexing completes (exit 0) or fails with a clear message; the
indexed files are exactly those expected (independently read from store.sqlite); the --json report says
precisely what was skipped and why; then searches answer. Prints a summary table (test, trials, failures,
data lost); writes it as JSON with --report; exits 1 on any failure.

The 100,000 files are empty: every chunk's embedded text starts with the file's path, so files with equal
non-empty content still cost one embedding each (measured here on 20 files and reported as info).
"""

import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reliability_common import (NOBODY_GID, NOBODY_UID, Codesage, Summary, check_skip_list, disk_snapshot,  # noqa: E402
                                integrity_check, parse_common_args, privilege_drop_prefix, read_manifest, remove_tree,
                                search_paths, skipped_entries, stable_copy_of_binary, visible_chunk_texts_containing,
                                visible_files, run_steps, clean_up, finish)

USAGE = "usage: test_bad_repos.py CODESAGE [--report FILE.json] [--keep]"
MANY_FILES = 100_000
HANG_LIMIT_S = 30                 # a run over this while files churn is taken as hung
MANY_FILES_LIMIT_S = 150          # index of 100,000 files on a 2-core machine, debug build
CORE_PY = ('def parse_configuration_file(path):\n'
           '    """Reads KEY=VALUE lines of a configuration file into a dict."""\n'
           '    values = {}\n'
           '    for line in open(path):\n'
           '        key, _, value = line.partition("=")\n'
           '        values[key.strip()] = value.strip()\n'
           '    return values\n')


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    if mode is not None:
        os.chmod(path, mode)


def new_repo(work, name):
    root = os.path.join(work, name)
    os.makedirs(root)
    write(os.path.join(root, "app", "core.py"), CORE_PY)
    return root


def exact(path):
    return lambda p: p == path


class Case:
    """Checks of one index run against what the repository should give."""

    def __init__(self, cs, name, root, user=None):
        self.cs, self.name, self.root, self.user = cs, name, root, user
        self.failures = []
        self.data_lost = 0
        self.info = {}

    def fail(self, text):
        self.failures.append(text)

    def index(self, timeout=300, expect_clean=True):
        result = self.cs.index(self.root, timeout=timeout, user=self.user)
        self.info.setdefault("index_seconds", []).append(round(result.seconds, 2))
        self.result = result
        self.report = result.json() if result.rc == 0 else None
        if result.timed_out:
            self.fail(f"`codesage index` did not finish in {timeout}s (killed)")
        elif result.signal:
            self.fail(f"`codesage index` died by signal {result.signal}: {result.last_error_line()}")
        elif result.rc != 0:
            line = result.last_error_line()
            clear = result.rc in (64, 65, 66, 74, 75, 78) and len(line) > 10 and "Fatal error" not in result.err
            self.info["index_error"] = result.describe()
            self.fail(("failed with a clear message, but the repository should index: " if clear else "failed unclearly: ")
                      + result.describe())
        elif self.report is None:
            self.fail(f"--json output is not JSON: {result.out[:200]!r}")
        return result

    def check_index(self, expected_indexed, expected_skipped, allow_extra=()):
        """expected_indexed: set of relative paths; expected_skipped: [(label, matcher, reasons)]."""
        if self.report is None:
            self.data_lost += len(expected_indexed)
            return
        manifest = read_manifest(os.path.join(self.root, ".codesage"))
        generation = (manifest or {}).get("generation")
        if generation is None:
            self.fail("no readable manifest.json after a successful run")
            self.data_lost += len(expected_indexed)
            return
        visible = visible_files(os.path.join(self.root, ".codesage"), generation)
        if "<error>" in visible:
            self.fail(f"store.sqlite cannot be read: {visible['<error>']}")
            return
        missing = sorted(set(expected_indexed) - set(visible))
        extra = sorted(p for p in set(visible) - set(expected_indexed) if not any(p.startswith(a) for a in allow_extra))
        if missing:
            self.data_lost += len(missing)
            self.fail(f"{len(missing)} file(s) that should be indexed are not: {missing[:5]}")
        if extra:
            self.fail(f"{len(extra)} file(s) indexed that should not be: {extra[:5]}")
        if self.report.get("files") != len(visible):
            self.fail(f"report says files={self.report.get('files')} but the store holds {len(visible)} at generation {generation}")
        excluded = self.report.get("excluded")
        if expected_skipped is not None and excluded != len(expected_skipped):
            self.fail(f"report says excluded={excluded}, expected {len(expected_skipped)} "
                      f"({', '.join(label for label, _, _ in expected_skipped)})")
        if expected_skipped:
            for problem in check_skip_list(self.report, expected_skipped, self.result.err):
                self.fail("skip report: " + problem)
        ok = integrity_check(os.path.join(self.root, ".codesage"))
        if ok != "ok":
            self.fail(f"PRAGMA integrity_check: {ok}")
        checked = self.cs.check(self.root, user=self.user)
        if checked is not None and checked.rc != 0:
            self.fail(f"`codesage check`: {checked.describe()}")
        self.info["report"] = {k: self.report.get(k) for k in ("files", "chunks", "embedded", "excluded", "skipped", "generation")}

    def search(self, query, mode, expect_path=None, forbid=()):
        result = self.cs.search(self.root, query, mode=mode, user=self.user)
        if result.rc != 0 or result.results is None:
            self.fail(f"search {query!r} ({mode}) failed: {result.describe()}")
            return
        paths = search_paths(result)
        if expect_path is not None and expect_path not in paths:
            self.fail(f"search {query!r} ({mode}) did not return {expect_path!r}; got {paths[:5]}")
        for p in paths:
            if p in forbid:
                self.fail(f"search {query!r} ({mode}) returned {p!r}, which must not be indexed")

    def done(self, summary, trials=1, failed=None):
        """failed: how many trials failed (default: the number of failed checks of this one trial)."""
        summary.add(self.name, trials, len(self.failures) if failed is None else failed, self.data_lost, self.failures, self.info)


# ---------------------------------------------------------------------------------------------

def case_binary(cs, work, summary):
    root = new_repo(work, "binary")
    write(os.path.join(root, "notes.txt"), "Release notes: the tokenizer handles accents now.\n")
    write(os.path.join(root, "image.png"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    write(os.path.join(root, "lib.so"), b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + b"def not_code(): pass\n")
    write(os.path.join(root, "data.py"), b"def hidden_binary_symbol():\n    return 1\n" + b"\x00" * 16 + b"more\n")
    write(os.path.join(root, "utf16.py"), "\ufeffdef utf16_function():\n    return 2\n".encode("utf-16-le"))
    # A NUL after the first 8,000 bytes: text by git's rule, so indexed (identical lines: few embeddings).
    write(os.path.join(root, "late_nul.txt"), b"plain text line of filler\n" * 320 + b"\x00tail\n")
    c = Case(cs, "binary files", root)
    c.index()
    skipped = [("image.png", exact("image.png"), ["binary"]), ("lib.so", exact("lib.so"), ["binary"]),
               ("data.py", exact("data.py"), ["binary"]), ("utf16.py", exact("utf16.py"), ["binary"])]
    c.check_index({"app/core.py", "notes.txt", "late_nul.txt"}, skipped)
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.search("hidden_binary_symbol", "lexical", None, forbid={"data.py"})
    c.done(summary)


def case_large(cs, work, summary):
    root = new_repo(work, "large")
    with open(os.path.join(root, "big.py"), "wb") as f:   # sparse 100 MB
        f.truncate(100 * 1024 * 1024)
    with open(os.path.join(root, "just_over.txt"), "wb") as f:
        f.truncate(1024 * 1024 + 1)
    c = Case(cs, "100 MB file", root)
    result = c.index(timeout=120)
    if result.rc == 0 and result.seconds > 30:
        c.fail(f"index took {result.seconds:.1f}s: the 100 MB file seems to have been read")
    c.check_index({"app/core.py"}, [("big.py", exact("big.py"), ["large", "size"]),
                                    ("just_over.txt", exact("just_over.txt"), ["large", "size"])])
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.done(summary)


def case_many(cs, work, summary):
    root = new_repo(work, "many")
    c = Case(cs, f"{MANY_FILES:,} small files", root)
    started = time.monotonic()
    per_folder = 1000
    expected = {"app/core.py"}
    for d in range(MANY_FILES // per_folder):
        folder = os.path.join(root, "gen", f"d{d:03d}")
        os.makedirs(folder)
        for i in range(per_folder):
            name = f"m{i:04d}.py"
            open(os.path.join(folder, name), "wb").close()
            expected.add(f"gen/d{d:03d}/{name}")
    c.info["create_seconds"] = round(time.monotonic() - started, 1)
    result = c.index(timeout=MANY_FILES_LIMIT_S + 60)
    if result.rc == 0 and result.seconds > MANY_FILES_LIMIT_S:
        c.fail(f"first index took {result.seconds:.0f}s (limit {MANY_FILES_LIMIT_S}s)")
    c.check_index(expected, [])
    again = cs.index(root, timeout=120)
    c.info["reindex_seconds"] = round(again.seconds, 2)
    report = again.json() if again.rc == 0 else None
    if report is None:
        c.fail(f"unchanged re-index failed: {again.describe()}")
    elif report.get("skipped") != len(expected) or report.get("published"):
        c.fail(f"unchanged re-index: skipped={report.get('skipped')} (expected {len(expected)}), published={report.get('published')}")
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.done(summary)
    remove_tree(root)

    # Equal non-empty content: the embedded text includes the path, so each file costs an embedding.
    root = new_repo(work, "same-content")
    for i in range(20):
        write(os.path.join(root, "copies", f"c{i:02d}.py"), "def same_body():\n    return 42\n")
    result = cs.index(root, timeout=120)
    report = result.json() or {}
    summary.note(f"20 files with identical non-empty content: embedded={report.get('embedded')}, "
                 f"{result.seconds:.1f}s (each file's embedded text starts with its own path)")


def make_deep(root, levels, name_len, leaf_name, content):
    """Creates `levels` nested folders with dir_fd (no absolute path may exceed PATH_MAX) and a file at the bottom."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    parts = []
    try:
        for i in range(levels):
            name = (f"d{i:03d}" + "x" * name_len)[:max(name_len, 4)]
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
            parts.append(name)
        leaf = os.open(leaf_name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, content.encode())
        os.close(leaf)
    finally:
        os.close(fd)
    return "/".join(parts + [leaf_name])


def case_deep(cs, work, summary):
    root = new_repo(work, "deep")
    deep = make_deep(root, 300, 4, "deep.py", "def deep_nested_marker():\n    return 'bottom'\n")
    too_deep = make_deep(root, 420, 10, "too_deep.py", "def beyond_path_max_marker():\n    return 'lower'\n")
    c = Case(cs, "deep nesting (300 levels; >PATH_MAX)", root)
    c.info["path_lengths"] = {"deep": len(deep), "too_deep": len(root) + 1 + len(too_deep)}
    c.index(timeout=120)
    # too_deep.py is either indexed or one of its folders is reported skipped with a reason.
    if c.report is not None:
        manifest = read_manifest(os.path.join(root, ".codesage")) or {}
        visible = visible_files(os.path.join(root, ".codesage"), manifest.get("generation", 0))
        expected = {"app/core.py", deep}
        skipped = []
        if too_deep in visible:
            expected.add(too_deep)
        else:
            skipped = [("an ancestor folder of too_deep.py (beyond PATH_MAX)",
                        lambda p: too_deep.startswith(p) and p != "", ["long", "unreadable", "depth", "name", "path"])]
        c.check_index(expected, skipped)
    c.search("deep_nested_marker", "lexical", deep)
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.done(summary)


def case_symlinks(cs, work, summary):
    root = new_repo(work, "symlinks")
    write(os.path.join(root, "sub", "file.py"), "def linked_target_function():\n    return 'target'\n")
    os.makedirs(os.path.join(root, "sub", "deeper"))
    links = {"loop_a": "loop_b", "loop_b": "loop_a", "self_link": ".", "sub/up": "..", "sub/deeper/back": "../..",
             "alias.py": "sub/file.py", "chain.py": "alias.py", "escape": "/etc", "dangling.py": "missing.py",
             "sub/selfloop": "selfloop"}
    for link, target in links.items():
        os.symlink(target, os.path.join(root, link))
    c = Case(cs, "symlink loops", root)
    c.index(timeout=60)
    loop = ["loop", "symlink"]
    c.check_index({"app/core.py", "sub/file.py", "alias.py", "chain.py"}, [
        ("loop_a", exact("loop_a"), loop), ("loop_b", exact("loop_b"), loop), ("self_link", exact("self_link"), loop),
        ("sub/up", exact("sub/up"), loop), ("sub/deeper/back", exact("sub/deeper/back"), loop),
        ("sub/selfloop", exact("sub/selfloop"), loop),
        ("escape", exact("escape"), ["escape", "outside"]),
        ("dangling.py", exact("dangling.py"), ["dangling", "broken", "missing", "unreadable", "target"])])
    c.search("linked_target_function", "lexical", "sub/file.py")
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.done(summary)


def case_unreadable(cs, work, summary, model_copy):
    name = "unreadable files and folders (as nobody)"
    try:
        prefix = privilege_drop_prefix()
    except RuntimeError as error:
        summary.add(name, 0, 1, 0, [f"impossible: {error}"])
        return
    root = new_repo(work, "unreadable")
    write(os.path.join(root, "secret.py"), "def secret_function():\n    return 'hidden'\n", 0o000)
    write(os.path.join(root, "writeonly.py"), "def write_only_function():\n    return 1\n", 0o200)
    write(os.path.join(root, "locked", "inner.py"), "def locked_inner():\n    return 2\n")
    write(os.path.join(root, "noexec", "x.py"), "def noexec_function():\n    return 3\n")
    for folder, _, files in os.walk(root):
        os.chown(folder, NOBODY_UID, NOBODY_GID)
        for f in files:
            os.chown(os.path.join(folder, f), NOBODY_UID, NOBODY_GID)
    os.chmod(os.path.join(root, "locked"), 0o000)
    os.chmod(os.path.join(root, "noexec"), 0o644)       # listable, but its entries cannot be examined or opened
    sanity = subprocess.run(prefix + ["cat", os.path.join(root, "secret.py")], capture_output=True, timeout=30)
    if sanity.returncode == 0:
        summary.add(name, 0, 1, 0, ["impossible: the unprivileged user can still read a mode-000 file (capabilities kept?)"])
        return
    user_cs = Codesage(cs.binary, {"CODESAGE_MODEL_PATH": model_copy, "HOME": os.path.join(work, "home")})
    c = Case(user_cs, name, root, user="nobody")
    c.index(timeout=120)
    c.check_index({"app/core.py"}, [
        ("secret.py", exact("secret.py"), ["unreadable", "permission", "denied", "access"]),
        ("writeonly.py", exact("writeonly.py"), ["unreadable", "permission", "denied", "access"]),
        ("locked", lambda p: p in ("locked", "locked/", "locked/inner.py"), ["unreadable", "permission", "denied", "access"]),
        ("noexec", lambda p: p in ("noexec", "noexec/", "noexec/x.py"), ["unreadable", "permission", "denied", "access"])])
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.search("secret_function", "lexical", None, forbid={"secret.py"})
    c.done(summary)


class Mutator(threading.Thread):
    """Rewrites, deletes and swaps files of `root` until stopped (at most `limit_s`, at most `max_ops` operations)."""

    def __init__(self, root, staging, kinds, outside_file, limit_s=60, max_ops=200_000):
        super().__init__(daemon=True)
        self.root, self.staging, self.kinds, self.outside = root, staging, kinds, outside_file
        self.limit_s, self.max_ops = limit_s, max_ops
        self.stop = threading.Event()
        self.ops = 0
        self.errors = []

    def run(self):
        rng = random.Random(7)
        deadline = time.monotonic() + self.limit_s
        while not self.stop.is_set() and time.monotonic() < deadline and self.ops < self.max_ops:
            kind, rel, i = rng.choice(self.kinds)
            path = os.path.join(self.root, rel)
            try:
                self.step(kind, path, i, rng)
            except OSError as error:
                self.errors.append(f"{kind} {rel}: {error}")
            self.ops += 1
            time.sleep(rng.uniform(0, 0.002))

    def staged(self, name):
        return os.path.join(self.staging, f"{name}.{self.ops}")

    def step(self, kind, path, i, rng):
        if kind == "change":
            version = rng.choice("ab")
            write(path, f"def churn_{version}_{i}():\n    return '{version}'\n")
        elif kind == "vanish":
            if os.path.lexists(path):
                os.unlink(path)
            else:
                write(path, f"def vanishing_{i}():\n    return {i}\n")
        elif kind == "grow":
            with open(path, "r+b" if os.path.exists(path) else "wb") as f:
                if rng.random() < 0.5:
                    f.truncate(2 * 1024 * 1024)
                else:
                    f.seek(0)
                    f.write(f"def growing_{i}():\n    return 0\n".encode())
                    f.truncate()
        elif kind in ("symlink", "fifo"):
            staged = self.staged(f"s{i}")
            if rng.random() < 0.5:
                write(staged, f"def swapped_regular_{i}():\n    return 'in root'\n")
            elif kind == "symlink":
                os.symlink(self.outside, staged)
            else:
                os.mkfifo(staged)
            os.rename(staged, path)

    def settle(self):
        """Leaves every churned path a small regular file."""
        for kind, rel, i in self.kinds:
            path = os.path.join(self.root, rel)
            if os.path.lexists(path):
                os.unlink(path)
            write(path, f"def settled_{i}():\n    return 'final'\n")


def thread_waits(pid):
    waits = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                waits.append(f.read().strip())
    except OSError:
        pass
    return waits


def run_while_mutating(cs, root, mutator, timeout):
    proc = cs.start(["index", root, "--json"])
    mutator.start()
    started = time.monotonic()
    hung = None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = thread_waits(proc.pid)
        os.killpg(proc.pid, 9)
        out, err = proc.communicate(timeout=30)
    mutator.stop.set()
    mutator.join(timeout=10)
    return proc.returncode, out, err, time.monotonic() - started, hung


def case_churn(cs, work, summary, kind_name, kinds_of, rounds, title):
    """Files changing, vanishing, growing past the size cap, or swapped for a link out of the root / a FIFO."""
    root = new_repo(work, f"churn-{kind_name}")
    staging = os.path.join(work, f"staging-{kind_name}")
    outside = os.path.join(work, "outside", "secret_token.txt")
    os.makedirs(staging)
    if not os.path.exists(outside):
        write(outside, "OUTSIDE_ROOT_SECRET_TOKEN = 'this file is outside the indexed root'\n")
    for d in range(10):   # a bulk of empty files, read before zz/ (sorted order), so reads come late
        os.makedirs(os.path.join(root, "bulk", f"b{d:02d}"))
        for i in range(1000):
            open(os.path.join(root, "bulk", f"b{d:02d}", f"e{i:04d}.py"), "wb").close()
    kinds = kinds_of()
    for kind, rel, i in kinds:
        write(os.path.join(root, rel), f"def initial_{i}():\n    return 0\n")
    c = Case(cs, title, root)
    first = cs.index(root, timeout=180)
    if first.rc != 0:
        c.fail(f"initial index failed: {first.describe()}")
    leaked, hung_rounds, ran = [], 0, 0
    for r in range(rounds):
        ran += 1
        mutator = Mutator(root, staging, kinds, outside)
        rc, out, err, seconds, hung = run_while_mutating(cs, root, mutator, timeout=HANG_LIMIT_S)
        c.info.setdefault("rounds", []).append({"seconds": round(seconds, 2), "mutations": mutator.ops, "rc": rc})
        mutator.settle()
        if hung is not None:
            hung_rounds += 1
            c.fail(f"round {r + 1}: `codesage index` hung for {HANG_LIMIT_S}s (killed); its threads wait in {sorted(set(hung))}")
            break
        if rc != 0:
            line = [x for x in err.splitlines() if x.strip()][-1:] or [""]
            c.fail(f"round {r + 1}: exit {rc}: {line[0][:300]}")
            continue
        try:
            report = json.loads(out)
        except ValueError:
            c.fail(f"round {r + 1}: --json output is not JSON")
            continue
        gen = report.get("generation")
        visible = visible_files(os.path.join(root, ".codesage"), gen)
        if report.get("files") != len(visible):
            c.fail(f"round {r + 1}: report files={report.get('files')} but store holds {len(visible)}")
        leak = visible_chunk_texts_containing(os.path.join(root, ".codesage"), gen, "OUTSIDE_ROOT_SECRET_TOKEN")
        if leak:
            leaked.extend(leak)
            c.fail(f"round {r + 1}: content of a file outside the root ({outside}) is indexed under {leak[:3]} "
                   "(a file swapped for a symbolic link between discovery and read)")
        churned = [e for e in skipped_entries(report) if e[0].startswith("zz/")]
        c.info.setdefault("skip_entries", []).append(len(churned))
        if not churned and report.get("excluded", 0) > 0:
            c.fail(f"round {r + 1}: skip report: excluded={report.get('excluded')} but the --json report names no path or reason")
    # Quiet now: one more run must converge on the disk, a further run must find nothing to do.
    final = cs.index(root, timeout=120)
    report = final.json() if final.rc == 0 else None
    if report is None:
        c.fail(f"settling run failed: {final.describe()}")
        c.data_lost = len(kinds)
    else:
        on_disk = disk_snapshot(root)
        visible = visible_files(os.path.join(root, ".codesage"), report.get("generation"))
        lost = sorted(p for p in on_disk if visible.get(p) != on_disk[p])
        extra = sorted(set(visible) - set(on_disk))
        c.data_lost = len(lost)
        if lost:
            c.fail(f"after settling, {len(lost)} file(s) missing or stale in the index: {lost[:5]}")
        if extra:
            c.fail(f"after settling, {len(extra)} file(s) indexed that are not on disk: {extra[:5]}")
        again = cs.index(root, timeout=120).json() or {}
        if again.get("published") or again.get("added") or again.get("changed"):
            c.fail(f"an unchanged re-run still found work: {again}")
        ok = integrity_check(os.path.join(root, ".codesage"))
        if ok != "ok":
            c.fail(f"PRAGMA integrity_check: {ok}")
        checked = cs.check(root)
        if checked is not None and checked.rc != 0:
            c.fail(f"`codesage check` after settling: {checked.describe()}")
        for _, rel, i in kinds[:1]:
            c.search(f"settled_{i}", "lexical", rel)
        c.search("parse configuration file", "hybrid", "app/core.py")
    phases = {f.split(":")[0] if f.startswith("round ") else "settling" for f in c.failures}
    c.done(summary, trials=ran + 1, failed=len(phases))


def case_names(cs, work, summary):
    root = new_repo(work, "names")
    rootb = os.fsencode(root)
    bad = {b"\xff\xfe.py": b"def ff_fe_named():\n    return 1\n",
           b"latin1_caf\xe9.py": b"def latin_named():\n    return 2\n"}
    for name, data in bad.items():
        with open(rootb + b"/" + name, "wb") as f:
            f.write(data)
    os.makedirs(rootb + b"/bad\xc3(dir")
    with open(rootb + b"/bad\xc3(dir/inner.py", "wb") as f:
        f.write(b"def inside_bad_folder():\n    return 3\n")
    write(os.path.join(root, "h\u00e9llo_w\u00f6rld.py"), "def unicode_named_function():\n    return 'ok'\n")
    write(os.path.join(root, "new\nline.py"), "def newline_named_function():\n    return 'nl'\n")
    c = Case(cs, "non-UTF-8 file names", root)
    c.index(timeout=60)

    reasons = ["utf", "name", "encod", "unreadable"]
    # How a name that is not UTF-8 is spelled in a report is the server's choice (U+FFFD, \\xff, %FF, ...).
    c.check_index({"app/core.py", "h\u00e9llo_w\u00f6rld.py", "new\nline.py"}, [
        ("\\xff\\xfe.py", lambda p: "/" not in p and p.endswith(".py") and not p.startswith(("app", "h", "new", "latin1"))
         and ("\ufffd" in p or "\\xff" in p.lower() or "%ff" in p.lower()), reasons),
        ("latin1_caf\\xe9.py", lambda p: p.startswith("latin1_caf") and p != "latin1_caf.py", reasons),
        ("bad\\xc3(dir", lambda p: p.startswith("bad") and "(dir" in p, reasons)])
    c.search("unicode_named_function", "lexical", "h\u00e9llo_w\u00f6rld.py")
    c.search("newline_named_function", "lexical", "new\nline.py")
    c.search("parse configuration file", "hybrid", "app/core.py")
    c.done(summary)


def main():
    options = parse_common_args(sys.argv, USAGE)
    summary = Summary("bad repositories")
    work = tempfile.mkdtemp(prefix="codesage-badrepos-")
    os.chmod(work, 0o755)
    try:
        os.makedirs(os.path.join(work, "bin"))
        binary = stable_copy_of_binary(options["codesage"], os.path.join(work, "bin"))
        cs = Codesage(binary)
        model = cs.run(["config", "--json"], timeout=60).json()
        model_path = next((s.get("value") for s in (model if isinstance(model, list) else model.get("settings", []))
                           if isinstance(s, dict) and s.get("name") == "CODESAGE_MODEL_PATH"), None) if model else None
        model_path = os.path.expanduser(model_path or "~/.cache/codesage/models/all-MiniLM-L6-v2")
        model_copy = os.path.join(work, "model", os.path.basename(model_path.rstrip("/")))
        shutil.copytree(model_path, model_copy)
        home = os.path.join(work, "home")
        os.makedirs(home)
        os.chown(home, NOBODY_UID, NOBODY_GID)
        for folder, dirs, files in os.walk(work):
            os.chmod(folder, 0o755)
            if folder.startswith(os.path.join(work, "model")):
                for f in files:
                    os.chmod(os.path.join(folder, f), 0o644)
        print(f"binary {options['codesage']} (copied), check subcommand: {'yes' if cs.has_check() else 'not in this build'}", flush=True)

        def churn_kinds():
            return ([("change", f"zz/change_{i}.py", i) for i in range(5)]
                    + [("vanish", f"zz/vanish_{i}.py", 10 + i) for i in range(5)]
                    + [("grow", f"zz/grow_{i}.py", 20 + i) for i in range(2)])

        def symlink_kinds():
            return [("symlink", f"zz/swap_{i}.py", 30 + i) for i in range(12)]

        def fifo_kinds():
            return [("fifo", f"zz/fifo_{i}.py", 50 + i) for i in range(12)]

        steps = [
            lambda: case_binary(cs, work, summary),
            lambda: case_large(cs, work, summary),
            lambda: case_many(cs, work, summary),
            lambda: case_deep(cs, work, summary),
            lambda: case_symlinks(cs, work, summary),
            lambda: case_unreadable(cs, work, summary, model_copy),
            lambda: case_churn(cs, work, summary, "change", churn_kinds, 3, "files change/vanish/grow during index"),
            lambda: case_churn(cs, work, summary, "symlink", symlink_kinds, 2, "file swapped for link out of root"),
            lambda: case_churn(cs, work, summary, "fifo", fifo_kinds, 3, "file swapped for a FIFO during index"),
            lambda: case_names(cs, work, summary),
        ]
        run_steps(summary, steps)
    finally:
        clean_up(work, options)
    finish(summary, options)


if __name__ == "__main__":
    main()
