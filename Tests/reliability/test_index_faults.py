"""Reliability of the index under faults: kill -9 during `codesage index`, disk full, corrupted files.

Usage: python3 Tests/reliability/test_index_faults.py CODESAGE [--trials N] [--report FILE.json] [--keep]
(default 5 kill trials; 50 for a stress run).

1. kill -9: a repository indexed once (generation 1); then N trials of: modify some files, start
   `codesage index ROOT`, kill -9 it after a random delay in [0, duration of a full run], then check that the
   published generation is the previous one (or the new one, when the kill came after publication), that its
   files are exactly those published (read independently from store.sqlite: paths and content hashes), that
   PRAGMA integrity_check is ok, that the FAISS header's vector count equals the manifest's, that
   `codesage check` (when this build has it) says sound and that searches answer; then that the next
   `codesage index ROOT` completes, publishes the modifications and leaves no stray files in the index folder.
   An update writes a delta segment over the kept base: four kills are aimed (inotify) at the windows a random
   delay rarely hits: while the delta segment (and, with CODESAGE_INDEX_DELTA_LIMIT=1, the compacted base) has
   its temporary name, and after its rename but before the manifest's; one more random kill while compacting.
2. Disk full: CODESAGE_INDEX_DIR on a 4 MB tmpfs (else a loop-mounted ext4 image, else RLIMIT_FSIZE),
   filled to several levels: an index run fails with a clear message (or completes when space sufficed), the
   previous generation stays intact and searchable, and after space is freed the next run publishes.
3. Corrupted files (delta segment truncated/emptied/flipped/missing, FAISS truncated/emptied/flipped/missing, SQLite truncated/flipped/missing, manifest
   truncated/garbage/inconsistent): a search or `codesage check` must fail with a message naming the file, and
   `codesage index --rebuild ROOT` must recover (then the check is sound and a search works).

Prints a summary table (test, trials, failures, data lost); writes it as JSON with --report; exits 1 on any failure.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reliability_common import (Codesage, Summary, disk_snapshot, faiss_vector_count, integrity_check,  # noqa: E402
                                parse_common_args, read_manifest, search_paths, stable_copy_of_binary,
                                visible_files, run_steps, clean_up, finish)

USAGE = "usage: test_index_faults.py CODESAGE [--trials N] [--report FILE.json] [--keep]"
ANCHOR = "stable_anchor_function"
ALLOWED_INDEX_FILES = {"manifest.json", "store.sqlite", "store.sqlite-wal", "store.sqlite-shm", "index.lock"}
WORDS = ["parse", "render", "merge", "hash", "encode", "decode", "sort", "filter", "compress", "resolve", "schedule",
         "validate", "tokenize", "serialize", "connect", "retry"]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def module_text(i, tag):
    """One definition per module (two embedded texts: the code and its summary), to keep the debug build's
    embedding time small."""
    a = WORDS[i % len(WORDS)]
    return (f"def {a}_{tag}_{i}(items):\n"
            f'    """{a.capitalize()} the items ({tag}, module {i})."""\n'
            f"    return [x for x in items if x != {i}]\n")


def make_repo(root, files):
    write(os.path.join(root, "src", "mod_0.py"),
          f"def {ANCHOR}():\n    \"\"\"Never modified: every generation holds it.\"\"\"\n    return 'anchor'\n")
    for i in range(1, files):
        write(os.path.join(root, "src", f"mod_{i}.py"), module_text(i, "v0"))


def names_file(text, filenames):
    """Whether an error text names one of `filenames` (a damaged manifest may be named as "the manifest")."""
    return any(name in (text or "") for name in ([filenames] if isinstance(filenames, str) else filenames))


class Trial:
    def __init__(self):
        self.failures = []
        self.data_lost = 0

    def fail(self, text):
        self.failures.append(text)


def verify_generation(cs, root, index_dir, expected_generation, expected_files, trial, label, env=None, anchor=True):
    """Checks the published generation against what was published; returns the manifest's generation."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        trial.fail(f"{label}: manifest.json missing or unreadable")
        trial.data_lost += len(expected_files)
        return None
    generation = manifest.get("generation")
    if expected_generation is not None and generation not in expected_generation:
        trial.fail(f"{label}: published generation {generation}, expected one of {sorted(expected_generation)}")
    ok = integrity_check(index_dir)
    if ok != "ok":
        trial.fail(f"{label}: PRAGMA integrity_check: {ok}")
    vectors = manifest.get("vectors") or {}
    if vectors:
        count = faiss_vector_count(os.path.join(index_dir, vectors.get("file", "")))
        if count != vectors.get("count"):
            trial.fail(f"{label}: {vectors.get('file')} holds {count} vectors, the manifest says {vectors.get('count')}")
    files = expected_files(generation) if callable(expected_files) else expected_files
    if files is not None:
        visible = visible_files(index_dir, generation)
        lost = sorted(p for p in files if visible.get(p) != files[p])
        extra = sorted(set(visible) - set(files))
        if lost:
            trial.data_lost += len(lost)
            trial.fail(f"{label}: generation {generation} lost or changed {len(lost)} file(s): {lost[:4]}")
        if extra:
            trial.fail(f"{label}: generation {generation} holds {len(extra)} file(s) it did not publish: {extra[:4]}")
        if manifest.get("files") != len(visible):
            trial.fail(f"{label}: manifest says {manifest.get('files')} files, the store shows {len(visible)}")
    checked = cs.check(root, env=env)
    if checked is not None and checked.rc != 0:
        trial.fail(f"{label}: `codesage check` says damaged: {checked.describe()} {checked.out.strip()[:300]}")
    if anchor:
        found = cs.search(root, ANCHOR, mode="lexical", env=env)
        if found.rc != 0 or "src/mod_0.py" not in search_paths(found):
            trial.fail(f"{label}: lexical search for {ANCHOR} failed: {found.describe() if found.rc else search_paths(found)}")
    semantic = cs.search(root, "filter the items of a list", mode="semantic", env=env)
    if semantic.rc != 0 or not semantic.results:
        trial.fail(f"{label}: semantic search failed: {semantic.describe() if semantic.rc else 'no results'}")
    return generation


# ---------------------------------------------------------------------------------------------

class DirectoryWatch:
    """inotify (through ctypes) on one folder: names created or renamed into it, as they happen."""

    IN_CREATE, IN_MOVED_TO = 0x100, 0x80

    def __init__(self, folder):
        import ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, os.fsencode(folder), self.IN_CREATE | self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify")

    def names(self, timeout):
        import select
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        data = os.read(self.fd, 65536)
        names, offset = [], 0
        while offset + 16 <= len(data):
            length = int.from_bytes(data[offset + 12:offset + 16], "little")
            names.append(data[offset + 16:offset + 16 + length].rstrip(b"\0").decode(errors="replace"))
            offset += 16 + length
        return names

    def close(self):
        os.close(self.fd)


def vector_files(manifest):
    """The base and delta file names a manifest refers to."""
    return [part["file"] for part in (manifest.get("vectors"), manifest.get("delta")) if part and part.get("file")]


def kill_when_file_appears(proc, watch, pattern, limit_s=120):
    """kill -9s the run as soon as a name matching `pattern` is created in the watched index folder
    (inotify, so within well under a millisecond); returns whether it was killed. At most limit_s."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and proc.poll() is None:
        if any(re.match(pattern, n) for n in watch.names(0.05)):
            os.kill(proc.pid, signal.SIGKILL)
            return True
    return False


def test_kill(cs, work, summary, trials, rng):
    root = os.path.join(work, "kill")
    index_dir = os.path.join(root, ".codesage")
    modules = 12
    make_repo(root, modules)
    first = cs.index(root, timeout=300)
    if first.rc != 0:
        summary.add("kill -9 during index", 0, 1, 0, [f"first index failed: {first.describe()}"])
        return
    full_run = first.seconds
    snapshots = {1: disk_snapshot(root)}
    # Random delays as asked, then two kills aimed at the short windows a random delay rarely hits: while the
    # new FAISS file is being written (its temporary name exists) and once it is renamed (before the manifest).
    plans = [("delay", rng.uniform(0, full_run), False) for _ in range(trials)]
    # The run is niced and shares one CPU with this watcher, so that the watcher gets the CPU as soon as
    # inotify reports the name; whether the kill landed inside the window is recorded. An update writes a
    # delta segment (delta-<G+1>.vec); with CODESAGE_INDEX_DELTA_LIMIT=1 it then compacts the delta into a new
    # base (vectors-<G+2>.faiss, published as G+2): kills aimed at both files' writes and renames.
    plans += [("file", r"delta-{next}\.vec\.tmp", False), ("file", r"delta-{next}\.vec$", False),
              ("file", r"vectors-{compacted}\.faiss\.tmp", True), ("file", r"vectors-{compacted}\.faiss$", True)]
    plans += [("delay", rng.uniform(0, full_run), True)]
    groups = {"random": [], "targeted": []}
    reported_stray = set()
    outcomes = {"random": {}, "targeted": {}}
    manifests = {1: read_manifest(index_dir)}
    for t, (how, what, compacting) in enumerate(plans, 1):
        group = "random" if how == "delay" else "targeted"
        env = {"CODESAGE_INDEX_DELTA_LIMIT": "1"} if compacting else None
        trial = Trial()
        # Modify about half of the modules, add one, delete one added earlier.
        for i in rng.sample(range(1, modules), modules // 2):
            write(os.path.join(root, "src", f"mod_{i}.py"), module_text(i, f"t{t}"))
        write(os.path.join(root, "src", f"new_{t}.py"), module_text(100 + t, f"n{t}"))
        if t > 2 and os.path.exists(os.path.join(root, "src", f"new_{t - 2}.py")):
            os.unlink(os.path.join(root, "src", f"new_{t - 2}.py"))
        planned = disk_snapshot(root)
        before = (read_manifest(index_dir) or {}).get("generation")
        watch = DirectoryWatch(index_dir) if how == "file" else None
        cpus = os.sched_getaffinity(0)
        if watch:
            one_cpu = {min(cpus)}
            os.sched_setaffinity(0, one_cpu)
        proc = cs.start(["index", root, "--json"], env=env,
                        preexec_fn=(lambda: (os.sched_setaffinity(0, one_cpu), os.nice(19))) if watch else None)
        started = time.monotonic()
        killed = False
        if how == "delay":
            try:
                proc.wait(timeout=what)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
            when = f"kill at {what:.2f}s of {full_run:.2f}s"
        else:
            pattern = what.format(next=before + 1, compacted=before + 2)
            killed = kill_when_file_appears(proc, watch, pattern)
            when = f"kill when {pattern} appeared ({time.monotonic() - started:.2f}s)"
        out, err = proc.communicate(timeout=60)
        if watch:
            watch.close()
            os.sched_setaffinity(0, cpus)
        if killed and proc.returncode != -signal.SIGKILL:
            killed = False  # it ended on its own just before the signal
        if not killed and proc.returncode != 0:
            trial.fail(f"trial {t}: the run (not killed) failed: exit {proc.returncode}: {err.strip()[-300:]}")
        after = (read_manifest(index_dir) or {}).get("generation")
        published = {before + 1, before + 2} if compacting else {before + 1}
        outcome = ("killed after publication" if after in published else "killed before publication") if killed else "finished before the kill"
        if compacting:
            outcome += ", compacting"
        left_at_kill = sorted(n for n in os.listdir(index_dir) if ".tmp" in n)
        if how == "file" and killed:
            landed = any(re.match(pattern, n) for n in left_at_kill) if "tmp" in what else after == (before + 1 if compacting else before)
            outcome += " (inside the window)" if landed else " (after the window)"
        outcomes[group][outcome] = outcomes[group].get(outcome, 0) + 1
        label = f"trial {t} ({when}, {outcome})"
        verify_generation(cs, root, index_dir, ({before} | published) if killed else published,
                          lambda g: planned if g in published else snapshots.get(g), trial, label)
        # The next run completes and publishes the modifications.
        again = cs.index(root, timeout=300)
        report = again.json() if again.rc == 0 else None
        if report is None:
            trial.fail(f"trial {t}: the run after the kill failed: {again.describe()}")
        else:
            label = f"trial {t} recovery"
            gen = verify_generation(cs, root, index_dir, published, planned, trial, label)
            for g in published:
                snapshots[g] = planned
            probe = f"{WORDS[(100 + t) % len(WORDS)]}_n{t}_{100 + t}"
            found = cs.search(root, probe, mode="lexical")
            if f"src/new_{t}.py" not in search_paths(found):
                trial.fail(f"{label}: lexical search for {probe} did not return src/new_{t}.py: {found.describe() if found.rc else search_paths(found)}")
            # Kept: what the published manifest names, and what the one before it named (its readers may be open).
            current = read_manifest(index_dir) or {}
            manifests[gen] = current
            kept = set(vector_files(current))
            if gen is not None:
                # The previous generation may have been published and superseded inside one run (an update,
                # then its compaction): its files are named for it, and its base is an earlier one's.
                earlier = max((g for g in manifests if g < gen), default=None)
                kept |= set(vector_files(manifests.get(earlier) or {})) | {f"delta-{gen - 1}.vec", f"vectors-{gen - 1}.faiss"}
            stray = sorted(n for n in os.listdir(index_dir) if n not in reported_stray
                           and n not in ALLOWED_INDEX_FILES and n not in kept)
            reported_stray.update(stray)  # each leftover is reported once, by the trial that left it
            if stray:
                trial.fail(f"{label}: files a killed run left are never removed: {stray} (temporary files at the kill: {left_at_kill})")
        groups[group].append(trial)
        print(f"  kill trial {t}/{len(plans)}: {when}: {outcome} -> {'ok' if not trial.failures else 'FAIL'}", flush=True)
    for group, title in (("random", "kill -9 during index (random delay)"), ("targeted", "kill -9 at delta/compaction write/rename")):
        rows = groups[group]
        summary.add(title, len(rows), sum(1 for r in rows if r.failures), sum(r.data_lost for r in rows),
                    [f for r in rows for f in r.failures], {"full_run_seconds": round(full_run, 2), "outcomes": outcomes[group]})


# ---------------------------------------------------------------------------------------------

def mount_small_filesystem(folder, size_mb=4):
    """Mounts a small file system at folder: ('tmpfs'|'loop', unmount) or (None, reason)."""
    os.makedirs(folder)
    tried = []
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", folder], capture_output=True, text=True, timeout=30)
    if r.returncode == 0:
        return "tmpfs", lambda: subprocess.run(["umount", "-l", folder], capture_output=True, timeout=30)
    tried.append(f"tmpfs: {r.stderr.strip()}")
    image = folder + ".img"
    with open(image, "wb") as f:
        f.truncate(size_mb * 2 * 1024 * 1024)
    r = subprocess.run(["mkfs.ext4", "-q", "-F", image], capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        r = subprocess.run(["mount", "-o", "loop", image, folder], capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            def unmount():
                subprocess.run(["umount", "-d", folder], capture_output=True, timeout=30)
                os.unlink(image)
            return "loop", unmount
    tried.append(f"loop: {r.stderr.strip()}")
    os.unlink(image)
    return None, "; ".join(tried)


def fill(folder, leave_bytes, limit_bytes=64 << 20):
    """Writes filler files until only about leave_bytes remain free (bounded); returns the free bytes left."""
    block = b"\xa5" * 4096
    index = 0
    while True:
        st = os.statvfs(folder)
        free = st.f_bavail * st.f_frsize
        if free <= leave_bytes or index > limit_bytes // 4096:
            return free
        try:
            with open(os.path.join(folder, f"filler-{index // 256}"), "ab") as f:
                f.write(block * max(1, min(256, (free - leave_bytes) // 4096)))
        except OSError:
            return os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
        index += 256


def unfill(folder):
    for name in os.listdir(folder):
        if name.startswith("filler-"):
            os.unlink(os.path.join(folder, name))


def clear_disk_message(result):
    text = result.err.lower()
    return any(k in text for k in ("no space", "disk full", "disk is full", "enospc", "file too large", "efbig", "quota"))


def test_disk_full(cs, work, summary, rng):
    root = os.path.join(work, "diskfull")
    make_repo(root, 8)  # noqa: disk-full repo
    mechanism, unmount = mount_small_filesystem(os.path.join(work, "smallfs"))
    mount_point = os.path.join(work, "smallfs")
    preexec = None
    if mechanism is None:
        summary.note(f"disk full: no small file system could be mounted ({unmount}); using RLIMIT_FSIZE")
        mechanism, unmount = "RLIMIT_FSIZE", (lambda: None)
        index_dir = os.path.join(root, ".codesage")
        env = {}
    else:
        index_dir = os.path.join(mount_point, "idx")
        env = {"CODESAGE_INDEX_DIR": index_dir}
    title = f"disk full while indexing ({mechanism})"
    rows, details = [], []
    try:
        first = cs.index(root, env=env, timeout=300)
        if first.rc != 0:
            summary.add(title, 0, 1, 0, [f"first index failed: {first.describe()}"])
            return
        snapshots = {1: disk_snapshot(root)}
        levels = [0, 16 << 10, 64 << 10, 160 << 10] if mechanism != "RLIMIT_FSIZE" else [4 << 10, 32 << 10, 128 << 10]
        info = []
        for t, level in enumerate(levels, 1):
            trial = Trial()
            for i in rng.sample(range(1, 8), 3):
                write(os.path.join(root, "src", f"mod_{i}.py"), module_text(i, f"full{t}"))
            planned = disk_snapshot(root)
            before = (read_manifest(index_dir) or {}).get("generation")
            if mechanism == "RLIMIT_FSIZE":
                import resource

                def preexec(limit=level):
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
                free = level
            else:
                free = fill(mount_point, level)
            run = cs.index(root, env=env, timeout=300, preexec_fn=preexec)
            label = f"free {free // 1024} KB"
            outcome = "completed" if run.rc == 0 else run.describe()
            info.append({"free_kb": free // 1024, "outcome": outcome})
            if run.signal or run.timed_out:
                trial.fail(f"{label}: the index run crashed: {run.describe()}")
            elif run.rc != 0 and not clear_disk_message(run):
                trial.fail(f"{label}: the error does not say the disk is full: {run.describe()}")
            elif run.rc not in (0, 74):
                trial.fail(f"{label}: disk full reported with exit {run.rc}, expected 74 (I/O error): {run.describe()}")
            now = (read_manifest(index_dir) or {}).get("generation")
            if run.rc != 0 and now == before + 1:
                trial.fail(f"{label}: the run published generation {now} and then failed ({run.describe()}): "
                           "a caller is told the index failed although it was updated")
            expected = {now} if now in (before, before + 1) else {before}
            if now == before + 1:
                snapshots[before + 1] = planned
            # The published generation is intact and searchable while the disk is still full.
            verify_generation(cs, root, index_dir, expected, lambda g: snapshots.get(g), trial, f"{label}, disk still full", env=env)
            # What the error message advises (`--rebuild`) must not destroy the published generation either.
            rebuilt = cs.index(root, rebuild=True, env=env, timeout=300, preexec_fn=preexec)
            info[-1]["rebuild_while_full"] = "completed" if rebuilt.rc == 0 else rebuilt.describe()
            if rebuilt.signal or rebuilt.timed_out or (rebuilt.rc != 0 and not clear_disk_message(rebuilt)):
                trial.fail(f"{label}: `index --rebuild` on the full disk: {rebuilt.describe()}")
            now = (read_manifest(index_dir) or {}).get("generation")
            if isinstance(now, int) and now > max(expected):
                if rebuilt.rc != 0:
                    trial.fail(f"{label}: `index --rebuild` published generation {now} and then failed ({rebuilt.describe()})")
                expected = {now}
                snapshots[now] = planned
            if mechanism != "RLIMIT_FSIZE":
                unfill(mount_point)
            # Space is back: before any new run, the published generation must be exactly as it was.
            verify_generation(cs, root, index_dir, expected, lambda g: snapshots.get(g), trial, f"{label}, space freed, before the next run", env=env)
            again = cs.index(root, env=env, timeout=300)
            if again.rc != 0:
                trial.fail(f"{label}: after freeing space the run failed: {again.describe()}")
            else:
                generation = (again.json() or {}).get("generation")
                snapshots[generation] = planned
                verify_generation(cs, root, index_dir, {max(expected) + (0 if max(expected) > before else 1)}, planned, trial,
                                  f"{label}, after the next run", env=env)
            rows.append(trial)
            details.extend(trial.failures)
            print(f"  disk full trial {t}: {label}: {outcome} -> {'ok' if not trial.failures else 'FAIL'}", flush=True)
        summary.add(title, len(rows), sum(1 for r in rows if r.failures), sum(r.data_lost for r in rows), details,
                    {"mechanism": mechanism, "trials": info})
    finally:
        unmount()


# ---------------------------------------------------------------------------------------------

def flip(path, offset, count=16):
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def truncate_half(path):
    os.truncate(path, os.path.getsize(path) // 2)


def sqlite_root_page(index_dir, table):
    import sqlite3
    connection = sqlite3.connect(os.path.join(index_dir, "store.sqlite"))
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        page = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        connection.close()
    return (page - 1) * page_size + (100 if page == 1 else 0)


def edit_manifest(index_dir, change):
    path = os.path.join(index_dir, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    change(manifest)
    with open(path, "w") as f:
        json.dump(manifest, f)


def corruptions(index_dir):
    manifest = read_manifest(index_dir)
    faiss = os.path.join(index_dir, manifest["vectors"]["file"])
    store = os.path.join(index_dir, "store.sqlite")
    mpath = os.path.join(index_dir, "manifest.json")
    fname = os.path.basename(faiss)
    chunks_root = sqlite_root_page(index_dir, "chunks")

    def bump_counts(m):
        m["vectors"]["count"] += 7
        m["files"] += 3

    def missing_vectors(m):
        m["vectors"]["file"] = "vectors-99.faiss"

    delta_cases = []
    if manifest.get("delta"):
        delta = os.path.join(index_dir, manifest["delta"]["file"])
        dname = os.path.basename(delta)

        def missing_delta(m):
            m["delta"]["file"] = "delta-99.vec"
        delta_cases = [
            ("delta segment truncated to half", dname, lambda: truncate_half(delta)),
            ("delta segment emptied", dname, lambda: os.truncate(delta, 0)),
            ("delta segment header bytes flipped", dname, lambda: flip(delta, 0, 8)),
            ("delta segment counts flipped", dname, lambda: flip(delta, 16, 2)),
            ("delta segment vector bytes flipped", dname, lambda: flip(delta, int(os.path.getsize(delta) * 0.8), 64)),
            ("delta segment deleted", dname, lambda: os.unlink(delta)),
            ("manifest names a missing delta segment", ["manifest.json", "delta-99.vec"], lambda: edit_manifest(index_dir, missing_delta)),
        ]
    return delta_cases + [
        ("FAISS truncated to half", fname, lambda: truncate_half(faiss)),
        ("FAISS emptied", fname, lambda: os.truncate(faiss, 0)),
        ("FAISS header bytes flipped", fname, lambda: flip(faiss, 0, 8)),
        ("FAISS vector count flipped", fname, lambda: flip(faiss, 8, 2)),
        ("FAISS vector bytes flipped", fname, lambda: flip(faiss, int(os.path.getsize(faiss) * 0.6), 64)),
        ("FAISS file deleted", fname, lambda: os.unlink(faiss)),
        ("SQLite truncated to half", "store.sqlite", lambda: truncate_half(store)),
        ("SQLite header bytes flipped", "store.sqlite", lambda: flip(store, 0, 16)),
        ("SQLite page bytes flipped", "store.sqlite", lambda: flip(store, chunks_root, 8)),
        ("SQLite store deleted", "store.sqlite", lambda: os.unlink(store)),
        ("manifest truncated", ["manifest.json"], lambda: truncate_half(mpath)),
        ("manifest garbage", ["manifest.json"], lambda: open(mpath, "wb").write(bytes(random.Random(3).randrange(256) for _ in range(300)))),
        ("manifest counts wrong", ["manifest.json", "manifest"], lambda: edit_manifest(index_dir, bump_counts)),
        ("manifest names a missing FAISS file", ["manifest.json", "vectors-99.faiss"], lambda: edit_manifest(index_dir, missing_vectors)),
    ]


def test_corruption(cs, work, summary):
    root = os.path.join(work, "corrupt")
    index_dir = os.path.join(root, ".codesage")
    make_repo(root, 6)
    first = cs.index(root, timeout=300)
    # A second run after an edit publishes a delta segment over the first run's base: both kinds of file exist.
    write(os.path.join(root, "src", "mod_2.py"), module_text(2, "edited"))
    second = cs.index(root, timeout=300) if first.rc == 0 else first
    if first.rc != 0 or second.rc != 0 or not (read_manifest(index_dir) or {}).get("delta"):
        summary.add("corrupted index files", 0, 1, 0, [f"indexing failed or published no delta: {first.describe()} / {second.describe()}"])
        return
    on_disk = disk_snapshot(root)
    pristine = os.path.join(work, "pristine-index")
    shutil.copytree(index_dir, pristine)
    names = [name for name, _, _ in corruptions(index_dir)]
    for name in names:
        trial = Trial()
        shutil.rmtree(index_dir)
        shutil.copytree(pristine, index_dir)
        case = next(c for c in corruptions(index_dir) if c[0] == name)
        _, filename, damage = case
        damage()
        found = cs.search(root, ANCHOR, mode="hybrid")
        checked = cs.check(root)
        by_search = found.rc != 0 and names_file(found.err, filename)
        by_check = checked is not None and checked.rc == 65 and names_file(checked.out + checked.err, filename)
        info = {"search": "ok" if found.rc == 0 else found.describe(),
                "check": None if checked is None else (f"exit {checked.rc}: " + " | ".join((checked.json() or {}).get("problems", []))[:300])}
        if found.signal or (checked is not None and checked.signal):
            trial.fail(f"{name}: crashed: search {found.describe()}; check {checked.describe() if checked else '-'}")
        if found.rc != 0 and not names_file(found.err, filename):
            trial.fail(f"{name}: search fails without naming {filename}: {found.describe()}")
        if found.rc == 0 and "src/mod_0.py" not in search_paths(found):
            trial.fail(f"{name}: search answered silently from the damaged index, without {ANCHOR}: {search_paths(found)[:3]}")
        info["search_results"] = len(found.results or []) if found.rc == 0 else None
        info["files_after_search"] = sorted(os.listdir(index_dir))
        if not (by_search or by_check):
            what = "search answered normally" if found.rc == 0 else f"search: {found.describe()}"
            chk = "no check subcommand" if checked is None else f"check exit {checked.rc}: {info['check']}"
            trial.fail(f"{name}: not detected ({what}; {chk})")
        rebuilt = cs.index(root, rebuild=True, timeout=300)
        info["rebuild"] = "ok" if rebuilt.rc == 0 else rebuilt.describe()
        if rebuilt.rc != 0:
            trial.fail(f"{name}: `codesage index --rebuild` did not recover: {rebuilt.describe()}")
            trial.data_lost += len(on_disk)
        else:
            verify_generation(cs, root, index_dir, None, on_disk, trial, f"{name}, after --rebuild")
        summary.add(f"corrupt: {name}", 1, 1 if trial.failures else 0, trial.data_lost, trial.failures, info)


def main():
    options = parse_common_args(sys.argv, USAGE)
    trials = options["trials"] if options["trials"] is not None else 5
    rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "20240611")))
    summary = Summary("index faults")
    work = tempfile.mkdtemp(prefix="codesage-faults-")
    try:
        os.makedirs(os.path.join(work, "bin"))
        binary = stable_copy_of_binary(options["codesage"], os.path.join(work, "bin"))
        cs = Codesage(binary)
        print(f"binary {options['codesage']} (copied), check subcommand: {'yes' if cs.has_check() else 'not in this build'}", flush=True)
        run_steps(summary, [lambda: test_kill(cs, work, summary, trials, rng),
                            lambda: test_disk_full(cs, work, summary, rng),
                            lambda: test_corruption(cs, work, summary)])
        if not cs.has_check():
            summary.note("this build has no `codesage check`: PRAGMA integrity_check and searches were the only checks")
    finally:
        clean_up(work, options)
    finish(summary, options)


if __name__ == "__main__":
    main()
