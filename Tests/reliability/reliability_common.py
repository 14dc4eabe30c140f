"""Shared helpers of the reliability tests (test_bad_repos.py, test_index_faults.py).

Python 3 standard library only. Every wait is bounded in time; every loop in count.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

NOBODY_UID = 65534
NOBODY_GID = 65534

# Exit codes documented by `codesage --help`.
EXIT_CODES = {0, 1, 64, 65, 66, 69, 70, 74, 75, 78}


class Result:
    """One finished (or killed) codesage run."""

    def __init__(self, args, rc, out, err, seconds, timed_out=False):
        self.args, self.rc, self.out, self.err, self.seconds, self.timed_out = args, rc, out, err, seconds, timed_out

    @property
    def signal(self):
        return -self.rc if self.rc is not None and self.rc < 0 else None

    def last_error_line(self):
        lines = [line for line in self.err.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        return (errors or lines or [""])[-1][:400]

    def describe(self):
        what = "timed out" if self.timed_out else (f"signal {self.signal}" if self.signal else f"exit {self.rc}")
        return f"{what} after {self.seconds:.1f}s: {self.last_error_line()}"

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return None


def stable_copy_of_binary(source, folder, wait_s=300):
    """Copies the binary (which another engineer may be relinking) once it exists, has not changed for
    2 s and answers --version; returns the copy's path. Waits at most wait_s."""
    deadline = time.monotonic() + wait_s
    target = os.path.join(folder, os.path.basename(source))
    last = None
    while time.monotonic() < deadline:
        try:
            st = os.stat(source)
            now = (st.st_size, st.st_mtime_ns)
        except OSError:
            now = None
        if now is not None and now == last:
            shutil.copyfile(source, target)
            os.chmod(target, 0o755)
            probe = subprocess.run([target, "--version"], capture_output=True, text=True, timeout=60)
            if probe.returncode == 0:
                return target
        last = now
        time.sleep(2)
    raise SystemExit(f"{source} did not appear (or kept changing) for {wait_s}s")


class Codesage:
    """Runs the copied codesage binary with a clean CODESAGE_* environment."""

    def __init__(self, binary, extra_env=None):
        self.binary = binary
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODESAGE_")}
        env["CODESAGE_LOG_LEVEL"] = "info"
        env.update(extra_env or {})
        self.env = env
        self._help = None

    def command(self, args, user=None):
        prefix = []
        if user == "nobody":
            prefix = privilege_drop_prefix()
        return prefix + [self.binary] + list(args)

    def run(self, args, env=None, timeout=120, user=None, preexec_fn=None):
        full_env = dict(self.env)
        full_env.update(env or {})
        started = time.monotonic()
        proc = subprocess.Popen(self.command(args, user), env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", preexec_fn=preexec_fn, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            return Result(args, proc.returncode, out, err, time.monotonic() - started)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=30)
            return Result(args, proc.returncode, out, err, time.monotonic() - started, timed_out=True)

    def start(self, args, env=None, preexec_fn=None):
        """Starts a run in the background (for kill -9 tests)."""
        full_env = dict(self.env)
        full_env.update(env or {})
        return subprocess.Popen([self.binary] + list(args), env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", start_new_session=True, preexec_fn=preexec_fn)

    def index(self, root, rebuild=False, env=None, timeout=300, user=None, preexec_fn=None):
        args = ["index", root, "--json"] + (["--rebuild"] if rebuild else [])
        return self.run(args, env=env, timeout=timeout, user=user, preexec_fn=preexec_fn)

    def search(self, root, query, mode="hybrid", limit=10, env=None, timeout=120, user=None):
        result = self.run(["search", query, "--path", root, "--mode", mode, "--limit", str(limit), "--json"],
                          env=env, timeout=timeout, user=user)
        result.results = result.json() if result.rc == 0 else None
        return result

    def has_check(self):
        if self._help is None:
            self._help = self.run(["--help"], timeout=60).out
        return re.search(r"^\s+check\s", self._help, re.M) is not None

    def check(self, root, env=None, timeout=120, user=None):
        """`codesage check ROOT --json` when this build has it, else None."""
        if not self.has_check():
            return None
        return self.run(["check", root, "--json"], env=env, timeout=timeout, user=user)


def privilege_drop_prefix():
    """A command prefix running the rest as nobody, or raises when the machine cannot."""
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_GID}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    raise RuntimeError("neither setpriv nor runuser is available")


def search_paths(result):
    return [r.get("path") for r in (result.results or [])]


# ---------------------------------------------------------------------------------------------
# The index on disk, read independently of codesage.

def read_manifest(index_dir):
    try:
        with open(os.path.join(index_dir, "manifest.json"), "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def _copy_store(index_dir):
    """A private copy of store.sqlite (+ WAL) so checks never change the live files."""
    folder = tempfile.mkdtemp(prefix="store-copy-")
    for suffix in ("", "-wal"):
        source = os.path.join(index_dir, "store.sqlite" + suffix)
        if os.path.exists(source):
            shutil.copyfile(source, os.path.join(folder, "store.sqlite" + suffix))
    return folder


def integrity_check(index_dir):
    """PRAGMA integrity_check of a copy of the store: 'ok' or the problems (a string)."""
    folder = _copy_store(index_dir)
    try:
        if not os.path.exists(os.path.join(folder, "store.sqlite")):
            return "store.sqlite is missing"
        connection = sqlite3.connect(os.path.join(folder, "store.sqlite"), timeout=5)
        try:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
        finally:
            connection.close()
        return "; ".join(str(r[0]) for r in rows)[:500]
    except sqlite3.Error as error:
        return f"sqlite error: {error}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def visible_files(index_dir, generation):
    """{path: content_hash_hex} of the files visible at `generation` (rows added ≤ G, not removed ≤ G)."""
    folder = _copy_store(index_dir)
    try:
        connection = sqlite3.connect(os.path.join(folder, "store.sqlite"), timeout=5)
        try:
            rows = connection.execute(
                "SELECT path, hex(content_hash) FROM files WHERE added_gen <= ? AND (removed_gen IS NULL OR removed_gen > ?)",
                (generation, generation)).fetchall()
        finally:
            connection.close()
        return {path: digest.lower() for path, digest in rows}
    except sqlite3.Error as error:
        return {"<error>": str(error)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def visible_chunk_texts_containing(index_dir, generation, needle):
    """Paths of chunks visible at `generation` whose text contains `needle`."""
    folder = _copy_store(index_dir)
    try:
        connection = sqlite3.connect(os.path.join(folder, "store.sqlite"), timeout=5)
        try:
            rows = connection.execute(
                "SELECT DISTINCT path FROM chunks WHERE added_gen <= ? AND (removed_gen IS NULL OR removed_gen > ?) AND instr(text, ?) > 0",
                (generation, generation, needle)).fetchall()
        finally:
            connection.close()
        return sorted(r[0] for r in rows)
    except sqlite3.Error as error:
        return [f"<error {error}>"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def faiss_vector_count(path):
    """ntotal from a FAISS IVF file header (fourcc, int32 d, int64 ntotal), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if len(head) < 16 or not head[:2] == b"Iw":
        return None
    return int.from_bytes(head[8:16], "little", signed=True)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def disk_snapshot(root, skip_dirs=(".codesage", ".git")):
    """{relative path: sha256} of the regular, small, text files under root (what an index should hold)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip_dirs]
        for name in files:
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if b"\0" in data[:8000]:
                continue
            found[os.path.relpath(path, root)] = sha256_hex(data)
    return found


# ---------------------------------------------------------------------------------------------
# Skip reports.

PATH_KEYS = ("path", "relative_path", "file", "name")
REASON_KEYS = ("reason", "why", "cause", "kind")


def skipped_entries(report):
    """(path, reason) pairs found anywhere in an index report: objects with a path and a reason, or
    objects mapping a reason to a list of paths. [] when the report lists none (counts only)."""
    pairs = []

    def walk(value, key_hint=None):
        if isinstance(value, dict):
            path = next((value[k] for k in PATH_KEYS if isinstance(value.get(k), str)), None)
            reason = next((value[k] for k in REASON_KEYS if isinstance(value.get(k), str)), None)
            if path is not None and reason is not None:
                pairs.append((path, reason))
                return
            for k, v in value.items():
                if isinstance(v, list) and v and all(isinstance(x, str) for x in v) and key_hint in ("skipped", "excluded", "skips"):
                    pairs.extend((x, k) for x in v)
                else:
                    walk(v, k if isinstance(v, (dict, list)) else key_hint)
        elif isinstance(value, list):
            for v in value:
                walk(v, key_hint)

    walk(report)
    return pairs


def normal(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def check_skip_list(report, expected, stderr=""):
    """expected: list of (label, path_matcher(path) -> bool, [reason keywords]). Returns problems (strings)."""
    entries = skipped_entries(report or {})
    problems = []
    if not entries:
        counts = {k: (report or {}).get(k) for k in ("excluded", "skipped")}
        mentioned = sum(1 for label, _, _ in expected if label.split("/")[-1] in stderr)
        problems.append(f"the --json report lists no skipped paths or reasons (only counts {counts}); "
                        f"{mentioned}/{len(expected)} of the skipped paths are named on stderr")
        return problems
    for label, matcher, keywords in expected:
        hits = [(p, r) for p, r in entries if matcher(p)]
        if not hits:
            problems.append(f"{label}: not listed among skipped paths")
        elif not any(any(normal(k) in normal(r) for k in keywords) for _, r in hits):
            problems.append(f"{label}: listed with reason {hits[0][1]!r}, expected one of {keywords}")
    return problems


# ---------------------------------------------------------------------------------------------
# Summary table.

class Summary:
    """Rows of (test, trials, failures, data lost, details), printed as a table and written as JSON."""

    def __init__(self, title):
        self.title = title
        self.rows = []
        self.notes = []
        self.started = time.monotonic()

    def add(self, test, trials, failures, data_lost=0, details=None, info=None):
        self.rows.append({"test": test, "trials": trials, "failures": failures, "data_lost": data_lost,
                          "details": details or [], "info": info or {}})
        mark = "ok" if failures == 0 else "FAIL"
        print(f"[{mark}] {test}: {trials} trial(s), {failures} failure(s), data lost {data_lost}", flush=True)
        for d in (details or [])[:12]:
            print(f"       - {d}", flush=True)

    def note(self, text):
        self.notes.append(text)
        print(f"note: {text}", flush=True)

    @property
    def failed(self):
        return any(r["failures"] for r in self.rows)

    def print_table(self):
        width = max([len(r["test"]) for r in self.rows] + [4])
        print()
        print(f"{self.title} ({time.monotonic() - self.started:.0f} s)")
        print(f"{'test'.ljust(width)}  trials  failures  data lost")
        for r in self.rows:
            print(f"{r['test'].ljust(width)}  {r['trials']:>6}  {r['failures']:>8}  {r['data_lost']:>9}")
        for n in self.notes:
            print(f"note: {n}")

    def write(self, path):
        if not path:
            return
        with open(path, "w") as f:
            json.dump({"suite": self.title, "seconds": round(time.monotonic() - self.started, 1),
                       "passed": not self.failed, "rows": self.rows, "notes": self.notes}, f, indent=2)
            f.write("\n")


def run_steps(summary, steps):
    """Runs each step; an exception in one (a test mistake or an unexpected state) is recorded as a failed
    row, never hidden, and the next step still runs."""
    import traceback
    for step in steps:
        try:
            step()
        except Exception as error:
            traceback.print_exc()
            summary.add("harness error", 1, 1, 0, [repr(error)])


def clean_up(work, options):
    """Removes the work folder, or says where it is with --keep."""
    if options["keep"]:
        print(f"kept {work}")
    else:
        remove_tree(work)


def finish(summary, options):
    """Prints the table, writes the report, and exits 1 if any row failed."""
    summary.print_table()
    summary.write(options["report"])
    sys.exit(1 if summary.failed else 0)


def parse_common_args(argv, usage):
    args = list(argv[1:])
    options = {"report": None, "trials": None, "keep": False}
    positional = []
    while args:
        a = args.pop(0)
        if a == "--report" and args:
            options["report"] = args.pop(0)
        elif a == "--trials" and args:
            options["trials"] = int(args.pop(0))
        elif a == "--keep":
            options["keep"] = True
        elif a.startswith("-"):
            raise SystemExit(usage)
        else:
            positional.append(a)
    if len(positional) != 1:
        raise SystemExit(usage)
    options["codesage"] = os.path.abspath(positional[0])
    return options


def remove_tree(path):
    """Removes a test folder, giving back permissions first (chmod 000 folders)."""
    if not os.path.lexists(path):
        return
    for folder, dirs, _ in os.walk(path):
        for d in dirs:
            p = os.path.join(folder, d)
            try:
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)
