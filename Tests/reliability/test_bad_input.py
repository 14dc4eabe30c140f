"""Bad input through MCP on every transport, and security checks, against `codesage serve`.

Usage: PYTHON Tests/reliability/test_bad_input.py PATH/TO/codesage [--report FILE.json]
(PYTHON: a Python with the official MCP SDK, package `mcp`, e.g. the venv scripts/setup makes.)

Builds a tiny repository in a temporary folder, indexes it, and drives three servers: stdio (the SDK's
stdio_client, plus a second `codesage serve` fed raw lines on stdin), Streamable HTTP on TCP and on a Unix
socket (raw HTTP, and the SDK's client for the final check). Each hostile request must get a clear error
(a JSON-RPC error, an HTTP 4xx with a message, or an isError tool result with a readable message) within a
bounded time, and the server must keep serving afterwards (alive, and a keyword search still answers).
Categories: malformed JSON, wrong argument types, unknown arguments, unknown methods, unknown tools, numeric
limits, path traversal, confinement to indexed roots, invalid UTF-8, deep nesting, query syntax, huge
arguments, regular expressions. Security: socket modes, the bearer token, the supervisor's control block,
and no writes outside <root>/.codesage. Prints a table of trials and failures per category and transport,
writes it as JSON with --report, exits 1 if any check failed. Bounded: every call has a timeout and the
whole run a deadline (DEADLINE_S).
"""

import sys

sys.dont_write_bytecode = True  # the write check snapshots ~/.cache/codesage, which holds the venv

import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import anyio  # noqa: E402
import httpx2  # noqa: E402
from anyio.from_thread import start_blocking_portal  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

if len(sys.argv) < 2:
    sys.exit(__doc__)
BINARY = os.path.abspath(sys.argv[1])
REPORT = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else None

STARTED = time.monotonic()
DEADLINE_S = 175          # the whole run; past it the script reports what it has and exits 1
CALL_TIMEOUT = 10.0       # an ordinary call
ERROR_BOUND = 5.0         # a refused request must be answered within this
HUGE_BOUND = 20.0         # a ~900 KB request (the debug build needs seconds just to decode one)
REGEX_BOUND = 5.0         # a regex search, however hostile the pattern
MAX_MESSAGE = 16_384      # an error message longer than this is not readable
HUGE = 900_000
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
SECRET = "TOPSECRET-outside-the-root"
PASSWD_MARK = "root:x:0:0"

FILES = {
    "pkg/cli.py": 'import os\nimport requests\n\n\ndef parse_arguments(argv):\n    """Turn argv into options."""\n'
                  "    options = {}\n    for word in argv:\n        options[word] = True\n    return options\n",
    "pkg/net.go": 'package net\n\nimport "github.com/spf13/cobra"\n\n// OpenSocket dials an address.\n'
                  "func OpenSocket(address string) error {\n\treturn dial(address)\n}\n",
    "lib/copy_a.py": "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n",
    "lib/copy_b.py": "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n",
    # Lines on which backtracking patterns explode: a long run that fails at its very end.
    "lib/blob.py": 'BLOB = "' + "a" * 40 + '!"\nWORDS = "' + "word " * 12 + 'x!"\n',
}


# ----------------------------------------------------------------------------------------------------
# Results

class Results:
    def __init__(self):
        self.rows = {}   # (category, transport) -> {"trials", "failures", "failed": [...]}
        self.info = []

    def check(self, category, transport, ok, what):
        row = self.rows.setdefault((category, transport), {"trials": 0, "failures": 0, "failed": []})
        row["trials"] += 1
        if not ok:
            row["failures"] += 1
            row["failed"].append(what)
            print(f"FAIL [{category}/{transport}] {what}", flush=True)
        return ok

    def note(self, category, transport, what):
        self.info.append({"category": category, "transport": transport, "note": what})
        print(f"note [{category}/{transport}] {what}", flush=True)

    @property
    def failures(self):
        return sum(r["failures"] for r in self.rows.values())

    def table(self):
        transports = ["stdio", "tcp", "unix", "-"]
        categories = []
        for category, _ in self.rows:
            if category not in categories:
                categories.append(category)
        used = [t for t in transports if any(k[1] == t for k in self.rows)]
        lines = [f"{'category':<16}" + "".join(f"{t:>14}" for t in used) + f"{'total':>14}"]
        for category in categories:
            cells, trials, failures = [], 0, 0
            for t in used:
                row = self.rows.get((category, t))
                if row:
                    cells.append(f"{row['trials']:>7}/{row['failures']:<6}")
                    trials += row["trials"]
                    failures += row["failures"]
                else:
                    cells.append(f"{'-':>14}")
            lines.append(f"{category:<16}" + "".join(f"{c:>14}" for c in cells) + f"{trials:>7}/{failures:<6}")
        total_trials = sum(r["trials"] for r in self.rows.values())
        lines.append(f"{'all':<16}" + " " * 14 * len(used) + f"{total_trials:>7}/{self.failures:<6}")
        return "cells are trials/failures\n" + "\n".join(lines)

    def as_json(self):
        return {"seconds": round(time.monotonic() - STARTED, 1), "ok": self.failures == 0,
                "rows": [{"category": c, "transport": t, **row} for (c, t), row in self.rows.items()],
                "notes": self.info}


R = Results()


class Answer:
    """What a request got: kind is result, rpc_error, http, timeout or closed."""

    def __init__(self, kind, elapsed, is_error=False, text="", code=None, status=None, rid=None, structured=None):
        self.kind, self.elapsed, self.is_error, self.text = kind, elapsed, is_error, text
        self.code, self.status, self.rid, self.structured = code, status, rid, structured

    def __repr__(self):
        text = self.text if len(self.text) <= 160 else self.text[:160] + f"... ({len(self.text)} chars)"
        extra = f" code={self.code}" if self.code is not None else ""
        extra += f" status={self.status}" if self.status is not None else ""
        extra += " isError" if self.is_error else ""
        return f"<{self.kind}{extra} in {self.elapsed:.2f}s: {text!r}>"


def clear_error(a, needle=None):
    """A JSON-RPC error, an HTTP 4xx with a message, or an isError result, readable, naming `needle`."""
    if a.kind == "rpc_error":
        ok = bool(a.text)
    elif a.kind == "result":
        ok = a.is_error and bool(a.text.strip())
    elif a.kind == "http":
        ok = a.status is not None and 400 <= a.status < 500 and bool(a.text.strip())
    else:
        return False
    return ok and len(a.text) <= MAX_MESSAGE and (needle is None or needle in a.text)


def expect_error(t, category, label, a, bound=ERROR_BOUND, needle=None, forbid=()):
    ok = clear_error(a, needle) and a.elapsed <= bound and not any(f in a.text for f in forbid)
    why = ""
    if a.elapsed > bound:
        why = f" (over {bound} s)"
    elif any(f in a.text for f in forbid):
        why = " (leaks content from outside the root)"
    elif a.kind in ("result", "rpc_error", "http") and len(a.text) > MAX_MESSAGE:
        why = f" (message of {len(a.text)} chars)"
    elif needle and needle not in a.text:
        why = f" (message does not name {needle!r})"
    return R.check(category, t.label, ok, f"{label}: expected a clear error, got {a!r}{why}")


def expect_answer(t, category, label, a, bound):
    """A result or a clear error (not a hang, not a dropped connection, not a 5xx) within `bound`."""
    ok = a.elapsed <= bound and (a.kind == "result" or clear_error(a))
    if category == "huge":
        R.note(category, t.label, f"{label}: {a.kind}{' isError' if a.is_error else ''}, {len(a.text)} chars in {a.elapsed:.1f} s")
    return R.check(category, t.label, ok, f"{label}: expected an answer within {bound} s, got {a!r}")


def short(value, n=60):
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= n else text[:n] + f"...({len(text)} chars)"


# ----------------------------------------------------------------------------------------------------
# Processes

PROCESSES = []  # every Popen this script started, to end them by pid


def wait_binary(timeout=60):
    """The other engineer may be relinking the binary: wait until it is there and executable."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.access(BINARY, os.X_OK):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{BINARY} missing for {timeout} s")


def spawn(args, **kwargs):
    for attempt in range(3):
        wait_binary()
        try:
            process = subprocess.Popen([BINARY, *args], **kwargs)
            PROCESSES.append(process)
            return process
        except OSError:
            if attempt == 2:
                raise
            time.sleep(1)


def end(process, timeout=10):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def children():
    """pids of live children of this process (the stdio client's server is one)."""
    me, found = os.getpid(), set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == me and fields[0] != "Z":
                    found.add(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def answer_from_json(body_text, elapsed, status=None):
    try:
        message = json.loads(body_text)
    except ValueError:
        return Answer("http", elapsed, text=body_text, status=status)
    if isinstance(message, dict) and isinstance(message.get("error"), dict):
        error = message["error"]
        text = str(error.get("message", "")) + (f" ({error['data']})" if error.get("data") else "")
        return Answer("rpc_error", elapsed, text=text, code=error.get("code"), status=status, rid=message.get("id", "absent"))
    if isinstance(message, dict) and isinstance(message.get("result"), dict):
        result = message["result"]
        content = result.get("content") or []
        text = content[0].get("text", "") if content and isinstance(content[0], dict) else json.dumps(result)[:2000]
        return Answer("result", elapsed, is_error=bool(result.get("isError")), text=text, status=status,
                      rid=message.get("id"), structured=result.get("structuredContent"))
    return Answer("http", elapsed, text=body_text, status=status)


# ----------------------------------------------------------------------------------------------------
# Transports: call_tool, list_tools, raw (bytes as one JSON-RPC message), alive, restart, stop

class HTTPTransport:
    kind = "http"

    def __init__(self, label, work, logs, unix_path=None, env=None):
        self.label, self.work, self.logs, self.unix_path, self.env = label, work, logs, unix_path, env or {}
        self.process = None
        self.ids = 1000
        self.start()

    def start(self, umask=None):
        args = ["serve", "--unix", self.unix_path] if self.unix_path else None
        if not args:
            self.port = free_port()
            args = ["serve", "--http", f"127.0.0.1:{self.port}"]
        self.log_path = os.path.join(self.logs, f"{self.label}-{len(PROCESSES)}.log")
        log = open(self.log_path, "wb")
        preexec = (lambda: os.umask(umask)) if umask is not None else None
        self.process = spawn(args, cwd=self.work, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL,
                             env={**os.environ, **self.env}, preexec_fn=preexec)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label}: server exited with {self.process.returncode}")
            try:
                status, _, _ = self.http("GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.label}: no /healthz after 60 s")

    def connection(self, timeout):
        if self.unix_path:
            return UnixHTTPConnection(self.unix_path, timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def http(self, method, path, body=None, headers=None, timeout=CALL_TIMEOUT, chunked=False):
        """(status, headers, body text); raises OSError/TimeoutError on a dropped or silent connection."""
        connection = self.connection(timeout)
        try:
            connection.request(method, path, body=body, headers=headers if headers is not None else {}, encode_chunked=chunked)
            response = connection.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data.decode("utf-8", "replace")
        finally:
            connection.close()

    def post(self, body, headers=None, timeout=CALL_TIMEOUT, chunked=False):
        started = time.monotonic()
        try:
            status, _, text = self.http("POST", "/mcp", body, HEADERS if headers is None else headers, timeout, chunked)
        except (socket.timeout, TimeoutError):
            return Answer("timeout", time.monotonic() - started)
        except (OSError, http.client.HTTPException) as error:
            return Answer("closed", time.monotonic() - started, text=repr(error))
        elapsed = time.monotonic() - started
        if status == 200 or (status >= 400 and text.lstrip().startswith("{")):
            a = answer_from_json(text, elapsed, status)
            if a.kind != "http" and status != 200 and a.kind == "rpc_error":
                a.status = status
            return a
        return Answer("http", elapsed, text=text, status=status)

    def raw(self, data, timeout=ERROR_BOUND + 1, rid=None):
        return self.post(data, timeout=timeout)

    def rpc(self, method, params=None, timeout=CALL_TIMEOUT):
        self.ids += 1
        message = {"jsonrpc": "2.0", "id": self.ids, "method": method}
        if params is not None:
            message["params"] = params
        return self.post(json.dumps(message).encode(), timeout=timeout)

    def call_tool(self, name, arguments, timeout=CALL_TIMEOUT):
        return self.rpc("tools/call", {"name": name, "arguments": arguments}, timeout)

    def list_tools(self):
        self.rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bad-input", "version": "1"}})
        self.ids += 1
        status, _, text = self.http("POST", "/mcp", json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": "tools/list"}).encode(), HEADERS)
        return json.loads(text)["result"]["tools"]

    def alive(self):
        return self.process.poll() is None

    def restart(self):
        end(self.process)
        self.start()

    def stop(self):
        end(self.process)


class RawStdio:
    """`codesage serve` fed raw lines on stdin; answers matched by id."""

    def __init__(self, work, logs):
        self.work, self.logs = work, logs
        self.start()

    def start(self):
        self.log = open(os.path.join(self.logs, f"stdio-raw-{len(PROCESSES)}.log"), "wb")
        self.process = spawn(["serve"], cwd=self.work, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.queue = queue.Queue()
        self.used_ids = set()
        self.ids = 5000
        out = self.process.stdout

        def read():
            for line in out:
                self.queue.put(line)
            self.queue.put(None)

        threading.Thread(target=read, daemon=True).start()
        a = self.rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}, 60)
        if a.kind != "result":
            raise RuntimeError(f"raw stdio: initialize: {a!r}")
        self.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n', 5)

    def write(self, data, timeout):
        """Writes on a helper thread so that a server that stops reading cannot block us."""
        done = threading.Event()
        error = []

        def run():
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except OSError as e:
                error.append(e)
            done.set()

        threading.Thread(target=run, daemon=True).start()
        return done.wait(timeout) and not error

    def raw(self, data, timeout=ERROR_BOUND + 1, rid=None):
        started = time.monotonic()
        if not self.write(data + b"\n", timeout):
            return Answer("closed", time.monotonic() - started, text="could not write to stdin")
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if rid is not None:
                    self.used_ids.add(json.dumps(rid))
                return Answer("timeout", time.monotonic() - started)
            try:
                line = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                return Answer("closed", time.monotonic() - started, text="stdout closed")
            try:
                message = json.loads(line)
            except ValueError:
                return Answer("http", time.monotonic() - started, text="unparseable line on stdout: " + line[:200].decode("utf-8", "replace"))
            if not isinstance(message, dict) or "method" in message:
                continue  # a notification or a request from the server
            key = json.dumps(message.get("id"))
            if (rid is not None and message.get("id") == rid) or ("error" in message and key not in self.used_ids):
                if rid is not None:
                    self.used_ids.add(json.dumps(rid))
                return answer_from_json(line.decode("utf-8", "replace"), time.monotonic() - started)

    def rpc(self, method, params=None, timeout=CALL_TIMEOUT):
        self.ids += 1
        message = {"jsonrpc": "2.0", "id": self.ids, "method": method}
        if params is not None:
            message["params"] = params
        return self.raw(json.dumps(message).encode(), timeout, rid=self.ids)

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        end(self.process, 5)
        self.log.close()


class StdioTransport:
    """The SDK's stdio_client for tool calls; a RawStdio server for what the SDK cannot send."""
    kind = "stdio"
    label = "stdio"

    def __init__(self, work, logs):
        self.work, self.logs = work, logs
        self.portal_cm = start_blocking_portal()
        self.portal = self.portal_cm.__enter__()
        self.start_session()
        self.raw_server = RawStdio(work, logs)

    def start_session(self):
        wait_binary()
        before = children()
        self.errlog = open(os.path.join(self.logs, f"stdio-{len(PROCESSES)}-{time.monotonic():.0f}.log"), "w")
        params = StdioServerParameters(command=BINARY, args=["serve"], cwd=self.work, env=dict(os.environ))
        self.client_cm = self.portal.wrap_async_context_manager(stdio_client(params, errlog=self.errlog))
        read, write = self.client_cm.__enter__()
        self.session_cm = self.portal.wrap_async_context_manager(ClientSession(read, write))
        self.session = self.session_cm.__enter__()
        self.portal.call(self._with_timeout, self.session.initialize, 60)
        new = children() - before - {p.pid for p in PROCESSES}
        self.pid = min(new) if new else None

    async def _with_timeout(self, function, timeout, *args):
        with anyio.fail_after(timeout):
            return await function(*args)

    async def _call(self, name, arguments, timeout):
        started = time.monotonic()
        try:
            with anyio.fail_after(timeout):
                r = await self.session.call_tool(name, arguments)
        except TimeoutError:
            return Answer("timeout", time.monotonic() - started)
        except MCPError as error:
            return Answer("rpc_error", time.monotonic() - started, text=error.message, code=error.code)
        except Exception as error:  # the session broke
            return Answer("closed", time.monotonic() - started, text=repr(error))
        text = r.content[0].text if r.content and hasattr(r.content[0], "text") else ""
        return Answer("result", time.monotonic() - started, is_error=bool(r.is_error), text=text, structured=r.structured_content)

    def call_tool(self, name, arguments, timeout=CALL_TIMEOUT):
        return self.portal.call(self._call, name, arguments, timeout)

    def list_tools(self):
        tools = self.portal.call(self._with_timeout, self.session.list_tools, 30).tools
        return [{"name": t.name, "inputSchema": t.input_schema} for t in tools]

    def raw(self, data, timeout=ERROR_BOUND + 1, rid=None):
        return self.raw_server.raw(data, timeout, rid)

    def rpc(self, method, params=None, timeout=CALL_TIMEOUT):
        return self.raw_server.rpc(method, params, timeout)

    def alive(self):
        return self.pid is not None and pid_alive(self.pid) and self.raw_server.alive()

    def close_session(self):
        for cm in (getattr(self, "session_cm", None), getattr(self, "client_cm", None)):
            try:
                if cm:
                    cm.__exit__(None, None, None)
            except BaseException:
                pass
        self.session_cm = self.client_cm = None
        if self.pid and pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        self.errlog.close()

    def restart(self):
        self.close_session()
        self.start_session()
        self.raw_server.stop()
        self.raw_server = RawStdio(self.work, self.logs)

    def stop(self):
        self.close_session()
        self.raw_server.stop()
        try:
            self.portal_cm.__exit__(None, None, None)
        except BaseException:
            pass


# ----------------------------------------------------------------------------------------------------
# The repository and its surroundings

class Tree:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="codesage-bad-input-")
        self.work = os.path.join(self.base, "work")      # servers' folder; snapshotted
        self.logs = os.path.join(self.base, "logs")      # server stderr; not snapshotted
        self.root = os.path.join(self.work, "repo")
        self.outside = os.path.join(self.work, "outside")
        for path, text in FILES.items():
            os.makedirs(os.path.dirname(os.path.join(self.root, path)), exist_ok=True)
            with open(os.path.join(self.root, path), "w") as f:
                f.write(text)
        os.makedirs(self.outside)
        os.makedirs(self.logs)
        with open(os.path.join(self.outside, "secret.py"), "w") as f:
            f.write(f'def leak():\n    return "{SECRET}"\n')
        with open(os.path.join(self.work, "outside.txt"), "w") as f:
            f.write(SECRET + "\n")
        os.symlink(self.outside, os.path.join(self.root, "escape"))                  # a folder outside
        os.symlink("/etc", os.path.join(self.root, "etc_link"))                      # /etc
        os.symlink(os.path.join(self.work, "outside.txt"), os.path.join(self.root, "secret_link.txt"))
        # Never-indexed folders, one per transport (index_codebase indexes one of them).
        self.fresh = {}
        for label in ("stdio", "tcp", "unix"):
            folder = os.path.join(self.work, f"fresh-{label}")
            os.makedirs(folder)
            with open(os.path.join(folder, "secret.py"), "w") as f:
                f.write(f'import requests\n\ndef leak():\n    return "{SECRET}"\n')
            self.fresh[label] = folder


def index(tree):
    started = time.monotonic()
    wait_binary()
    out = subprocess.run([BINARY, "index", tree.root, "--json"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"codesage index failed ({out.returncode}): {out.stderr[-2000:]}")
    report = json.loads(out.stdout)
    print(f"indexed {report['files']} files, {report['chunks']} chunks in {time.monotonic() - started:.1f} s", flush=True)


def valid_arguments(tree, tool):
    """Arguments that make `tool` succeed on the indexed root (derived from the schema for unknown tools)."""
    root = tree.root
    table = {
        "index_codebase": {"path": root},
        "semantic_search_codebase": {"path": root, "query": "open a socket to an address"},
        "search_codebase": {"path": root, "query": "OpenSocket", "mode": "keyword"},
        "find_duplicate_code": {"path": root},
        "read_code_file": {"path": root, "file": "pkg/net.go"},
        "get_file_structure": {"path": root, "file": "pkg/cli.py"},
        "get_configuration": {"name": "CODESAGE_MAX_FILE_SIZE"},
    }
    if tool["name"] in table:
        return dict(table[tool["name"]])
    schema = tool.get("inputSchema") or {}
    arguments = {}
    for name in schema.get("required") or []:
        arguments[name] = {"path": root, "file": "pkg/net.go", "query": "OpenSocket"}.get(name, "x")
    return arguments


def properties(tool):
    return (tool.get("inputSchema") or {}).get("properties") or {}


def root_tools(tools):
    return [t for t in tools if "path" in properties(t)]


def file_arguments(tool):
    """String arguments that name a file or folder inside the root (file, *_file, *_path, ...)."""
    return [n for n, schema in properties(tool).items() if n != "path" and schema.get("type") == "string"
            and (n in ("file", "filename", "dir", "folder", "directory") or n.endswith(("_file", "_path", "_dir")))]


def search_ok(t, timeout=ERROR_BOUND):
    arguments = {"path": TREE.root, "query": "OpenSocket", "mode": "keyword"}
    a = t.call_tool("search_codebase", arguments, timeout)
    ok = a.kind == "result" and not a.is_error and "pkg/net.go" in a.text
    if ok and t.kind == "stdio":  # the raw-stdin server too
        a = t.rpc("tools/call", {"name": "search_codebase", "arguments": arguments}, timeout)
        ok = a.kind == "result" and not a.is_error and "pkg/net.go" in a.text
    return ok, a


def survives(t, category):
    """The process is alive and a normal keyword search answers; restarts a dead or stuck server."""
    alive = t.alive()
    ok, a = search_ok(t) if alive else (False, None)
    R.check(category, t.label, alive and ok, f"server keeps serving after {category}: alive={alive}, search={a!r}")
    if not (alive and ok):
        print(f"  restarting the {t.label} server", flush=True)
        t.restart()


# ----------------------------------------------------------------------------------------------------
# Categories (each runs on one transport t)

MALFORMED = [
    (b'{"jsonrpc": "2.0", "id": 1, "method": ', "truncated JSON"),
    (b"{bad json}", "not JSON"),
    (b"null", "null"),
    (b"42", "a number"),
    (b'"text"', "a string"),
    (b"[]", "an empty batch"),
    (b"[42]", "a batch of a number"),
    (b"{}", "an empty object"),
    (b'{"jsonrpc":"2.0","id":11}', "no method"),
    (b'{"jsonrpc":"2.0","id":12,"method":"tools/list"} trailing', "trailing garbage"),
    (b"{'jsonrpc': '2.0', 'id': 13, 'method': 'tools/list'}", "single quotes"),
    (b'{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"search_codebase","arguments":{"limit":NaN}}}', "NaN"),
    (b'{"jsonrpc":"1.0","id":15,"method":"tools/list"}', "jsonrpc 1.0"),
    (b'{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}', "an object as id"),
    (b'{"jsonrpc":"2.0","id":[16],"method":"tools/list"}', "an array as id"),
    (b'{"jsonrpc":"2.0","id":17,"method":"tools/call","params":"not an object"}', "params a string"),
    (b'{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"search_codebase","arguments":"not an object"}}', "arguments a string"),
    (b'{"jsonrpc":"2.0","id":19,"method":"tools/call","params":{"name":"search_codebase","arguments":[1,2]}}', "arguments an array"),
    (b'{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":42}}', "name a number"),
    (b'{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{}}', "no tool name"),
]


def malformed(t):
    c = "malformed"
    for body, label in MALFORMED:
        rid = None
        try:
            rid = json.loads(body).get("id")
            rid = rid if isinstance(rid, int) else None
        except (ValueError, AttributeError):
            pass
        a = t.raw(body, timeout=ERROR_BOUND + 1, rid=rid)
        expect_error(t, c, f"{label}: {short(body.decode())}", a)
        if label == "truncated JSON" and a.kind == "rpc_error":
            R.check(c, t.label, a.rid is None and a.code == -32700,
                    f"parse error must carry id null and code -32700 (JSON-RPC 2.0 section 5): got id {a.rid!r}, code {a.code}")
    if t.kind == "http":
        a = t.post(b"", timeout=ERROR_BOUND + 1)
        expect_error(t, c, "an empty body", a)
        plain = dict(HEADERS, **{"Content-Type": "text/plain"})
        expect_error(t, c, "Content-Type text/plain", t.post(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers=plain))
        expect_error(t, c, "no Accept header", t.post(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers={"Content-Type": "application/json"}))
        for method, path in [("GET", "/mcp"), ("PUT", "/mcp"), ("POST", "/no-such-endpoint")]:
            started = time.monotonic()
            try:
                status, _, text = t.http(method, path, b"{}" if method != "GET" else None, HEADERS, ERROR_BOUND)
                a = Answer("http", time.monotonic() - started, text=text, status=status)
            except OSError as error:
                a = Answer("closed", time.monotonic() - started, text=repr(error))
            expect_error(t, c, f"{method} {path}", a)
        # A request line that is not HTTP: a 400, then the connection closed as the 400 says (Connection: close).
        started, reply, closed = time.monotonic(), b"", False
        try:
            if t.unix_path:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(t.unix_path)
            else:
                s = socket.create_connection(("127.0.0.1", t.port))
            s.settimeout(ERROR_BOUND)
            s.sendall(b"GARBAGE \x01\x02 NOT-HTTP\r\n\r\n")
            while b"\r\n\r\n" not in reply and len(reply) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
            s.settimeout(2)
            try:
                closed = s.recv(4096) == b""
            except OSError:
                closed = False
            s.close()
        except OSError as error:
            reply += repr(error).encode()
        status = int(reply.split()[1]) if reply.startswith(b"HTTP/") else None
        a = Answer("http", time.monotonic() - started, text=reply.decode("latin-1")[:400] or "(nothing)", status=status)
        R.check(c, t.label, a.status == 400, f"a request line that is not HTTP: expected 400, got {a!r}")
        R.check(c, t.label, closed, f"a request line that is not HTTP: the server answered {reply[:60]!r} but left the connection "
                                    "open for 2 s more (expected it closed after the 400)")


WRONG = {
    "string": [42, True, ["x"], {"a": "b"}],
    "integer": ["5", 2.5, True, [1]],
    "number": ["0.9", True, [0.9]],
    "boolean": ["true", 1, {"a": 1}],
    "array": [42, True, {"a": "b"}, [1, 2]],
}


def wrong_types(t, tools):
    c = "wrong_types"
    for tool in tools:
        base = valid_arguments(TREE, tool)
        for name, schema in properties(tool).items():
            for value in WRONG.get(schema.get("type"), [42, [1]]):
                a = t.call_tool(tool["name"], {**base, name: value})
                expect_error(t, c, f"{tool['name']}({name}={short(value)})", a, needle=name)
        # Required arguments missing.
        for name in (tool.get("inputSchema") or {}).get("required") or []:
            arguments = {k: v for k, v in base.items() if k != name}
            expect_error(t, c, f"{tool['name']} without {name}", t.call_tool(tool["name"], arguments), needle=name)


def unknown_arguments(t, tools):
    c = "unknown_args"
    for tool in tools:
        base = valid_arguments(TREE, tool)
        for extra in ["unexpected_argument", "Path", "path "]:
            if extra in properties(tool):
                continue
            a = t.call_tool(tool["name"], {**base, extra: "value"})
            expect_error(t, c, f"{tool['name']}({extra!r}=...)", a, needle=extra.strip())


def unknown_methods(t):
    c = "unknown_methods"
    for method in ["no/such/method", "", "tools/cal", "TOOLS/LIST", "tools/list/", "rpc.discover", "resources/read", "x" * 5000]:
        a = t.rpc(method, {}, timeout=ERROR_BOUND + 1)
        ok = clear_error(a) and a.kind == "rpc_error" and a.code in (-32601, -32600)
        R.check(c, t.label, ok and a.elapsed <= ERROR_BOUND, f"method {short(method)}: expected JSON-RPC -32601, got {a!r}")
    # A method that is not a string.
    if t.kind == "http":
        a = t.raw(b'{"jsonrpc":"2.0","id":31,"method":42}')
    else:
        a = t.raw(b'{"jsonrpc":"2.0","id":31,"method":42}', rid=31)
    expect_error(t, c, "method 42", a)
    # An unknown notification gets no answer but must not disturb the server.
    if t.kind == "http":
        a = t.post(b'{"jsonrpc":"2.0","method":"notifications/no_such_thing"}')
        R.check(c, t.label, a.kind in ("http", "result", "rpc_error") and (a.status or 200) < 500,
                f"an unknown notification: got {a!r}")
    else:
        t.raw_server.write(b'{"jsonrpc":"2.0","method":"notifications/no_such_thing"}\n', 5)


def unknown_tools(t):
    c = "unknown_tools"
    for name in ["no_such_tool", "", "Search_Codebase", "search_codebase ", "../../../bin/sh", "search_codebase\u0000", "x" * 10_000]:
        a = t.call_tool(name, {"path": TREE.root, "query": "x"})
        expect_error(t, c, f"tool {short(name)}", a, needle="unknown tool")


NUMBERS = [10**9, -1, -10**9, 0, 10**20, 1e308, -0.5, 2**63]


def numeric_limits(t, tools):
    c = "numeric"
    for tool in tools:
        base = valid_arguments(TREE, tool)
        for name, schema in properties(tool).items():
            if schema.get("type") not in ("integer", "number"):
                continue
            low, high = schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))
            for value in NUMBERS:
                if low <= value <= high and (schema["type"] == "number" or float(value).is_integer()):
                    continue
                a = t.call_tool(tool["name"], {**base, name: value})
                expect_error(t, c, f"{tool['name']}({name}={value})", a, needle=name)


def path_traversal(t, tools):
    c = "path_traversal"
    root, forbid = TREE.root, (SECRET, PASSWD_MARK)
    files = ["../outside.txt", "pkg/../../outside.txt", "../../../../../../etc/passwd", "/etc/passwd", "/etc",
             os.path.join(TREE.work, "outside.txt"), root + "/../outside.txt", "escape/secret.py", "etc_link/passwd",
             "secret_link.txt", "/proc/self/environ", "pkg/cli.py\u0000.txt", "\u0000", "..", "pkg/..\\..\\outside.txt",
             "file:///etc/passwd", "%2e%2e/outside.txt"]
    for tool in tools:
        base = valid_arguments(TREE, tool)
        for argument in file_arguments(tool):
            for value in files:
                a = t.call_tool(tool["name"], {**base, argument: value})
                expect_error(t, c, f"{tool['name']}({argument}={value!r})", a, forbid=forbid)
        if "path" not in properties(tool):
            continue
        roots = {root + "\u0000": "pkg/net.go", root + "\u0000/../../etc": "passwd", "\u0000": "etc/passwd"}
        if tool["name"] != "index_codebase":  # it indexes whatever folder it is given: see confinement
            roots.update({root + "/pkg/../..": "outside.txt", root + "/escape": "secret.py", root + "/etc_link": "passwd",
                          "repo/../outside": "secret.py"})
        for value, file in roots.items():
            arguments = {**base, "path": value}
            if "file" in properties(tool):
                arguments["file"] = file
            a = t.call_tool(tool["name"], arguments)
            expect_error(t, c, f"{tool['name']}(path={value!r}{', file=' + arguments['file'] if 'file' in arguments else ''})", a, forbid=forbid)


def confinement(t, tools):
    """Every root `path` must be an indexed root: a never-indexed folder and /etc are refused."""
    c = "confinement"
    fresh = TREE.fresh[t.label]
    for tool in root_tools(tools):
        if tool["name"] == "index_codebase":
            continue
        for folder, file in [(fresh, "secret.py"), ("/etc", "passwd")]:
            arguments = {**valid_arguments(TREE, tool), "path": folder}
            if "file" in properties(tool):
                arguments["file"] = file
            a = t.call_tool(tool["name"], arguments)
            ok = a.kind != "result" or a.is_error
            R.check(c, t.label, ok and not (SECRET in a.text or PASSWD_MARK in a.text),
                    f"{tool['name']}(path={folder}{', file=' + file if 'file' in arguments else ''}) read a folder that was never indexed: {a!r}")
    # index_codebase's job is to index a new folder; record what it does with one (not /etc: as root it
    # would write /etc/.codesage).
    a = t.call_tool("index_codebase", {"path": fresh}, timeout=60)
    made = os.path.isdir(os.path.join(fresh, ".codesage"))
    R.note(c, t.label, f"index_codebase(path=<never-indexed folder>) -> {a!r}; created {fresh}/.codesage: {made}; "
                       "it accepts any folder the server can read and writes <folder>/.codesage there (not tried on /etc)")


def invalid_utf8(t):
    c = "invalid_utf8"
    root = TREE.root.encode()
    bodies = [
        (b'{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"search_codebase","arguments":{"path":"' + root
         + b'","query":"Open\xff\xfeSocket","mode":"keyword"}}}', "\\xff\\xfe in the query"),
        (b'{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"read_code_file","arguments":{"path":"' + root
         + b'","file":"..\xc0\xaf..\xc0\xafoutside.txt"}}}', "overlong '/' in file"),
        (b'{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"name":"count_lines_of_code","arguments":{"path":"' + root
         + b'\x80"}}}', "\\x80 in path"),
        (b'{"jsonrpc":"2.0","id":44,"method":"tools/li\xffst"}', "\\xff in the method"),
        (b'{"jsonrpc":"2.0","id":45,"method":"tools/call","params":{"name":"search_\xed\xa0\x80codebase","arguments":{}}}', "encoded surrogate in the tool name"),
        (b'\xef\xbb\xbf\xff{"jsonrpc":"2.0","id":46,"method":"tools/list"}', "BOM and \\xff before the JSON"),
    ]
    for body, label in bodies:
        rid = int(body.split(b'"id":')[1].split(b",")[0]) if b'"id":' in body else None
        a = t.raw(body, rid=rid)
        expect_error(t, c, label, a, forbid=(SECRET,))
    # Valid JSON that escapes a lone surrogate (not a Unicode scalar): an answer, not a crash.
    body = ('{"jsonrpc":"2.0","id":47,"method":"tools/call","params":{"name":"search_codebase","arguments":{"path":'
            + json.dumps(TREE.root) + ',"query":"Open\\ud800Socket","mode":"keyword"}}}').encode()
    expect_answer(t, c, "escaped lone surrogate in the query", t.raw(body, timeout=CALL_TIMEOUT, rid=47), ERROR_BOUND)


def deep_nesting(t):
    c = "deep_nesting"
    depth = 100_000
    def head(rid):
        return (b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"search_codebase","arguments":{"path":' % rid
                + json.dumps(TREE.root).encode())

    bodies = [
        (b"[" * depth + b"]" * depth, None, "100,000 nested arrays as the body"),
        (b'{"a":' * depth + b"1" + b"}" * depth, None, "100,000 nested objects as the body"),
        (head(51) + b',"query":' + b"[" * depth + b"]" * depth + b"}}}", 51, "100,000 nested arrays as the query"),
        (head(52) + b',"query":"x","file_types":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}}}", 52,
         "100,000 nested objects as file_types"),
        (head(53) + b',"query":' + b"[" * 1000 + b"]" * 1000 + b"}}}", 53, "1,000 nested arrays as the query"),
    ]
    for body, rid, label in bodies:
        a = t.raw(body, rid=rid)
        expect_error(t, c, label, a)
        if not t.alive():
            R.check(c, t.label, False, f"{label}: the server died (exit {getattr(getattr(t, 'process', None), 'returncode', '?')})")
            t.restart()


def query_syntax(t):
    """FTS5 and query-parser metacharacters in keyword and hybrid search: an answer, never a crash."""
    c = "query_syntax"
    for query in ['"unbalanced', "NEAR(open socket", "open AND", "OR", "*", "^", "col:value", ")", "-", '"""', "a'b", "\\", "NOT NOT NOT"]:
        for mode in ("keyword", "hybrid"):
            a = t.call_tool("search_codebase", {"path": TREE.root, "query": query, "mode": mode})
            expect_answer(t, c, f"search_codebase(mode={mode}, query={query!r})", a, ERROR_BOUND)


HUGE_MODES = {"stdio": ["keyword"], "tcp": ["semantic", "hybrid"], "unix": ["regex"]}  # every mode once: the debug build is slow


def huge_arguments(t):
    c = "huge"
    big = ("open socket " * (HUGE // 12 + 1))[:HUGE]
    for mode in HUGE_MODES[t.label]:
        a = t.call_tool("search_codebase", {"path": TREE.root, "query": big, "mode": mode}, timeout=HUGE_BOUND + 10)
        expect_answer(t, c, f"search_codebase(mode={mode}, query=<{HUGE} bytes>)", a, HUGE_BOUND)
    a = t.call_tool("read_code_file", {"path": TREE.root, "file": "a/" * (HUGE // 2)}, timeout=HUGE_BOUND + 10)
    expect_error(t, c, f"read_code_file(file=<{HUGE} bytes>)", a, bound=HUGE_BOUND)
    a = t.call_tool("count_lines_of_code", {"path": "/" + "x" * HUGE}, timeout=HUGE_BOUND + 10)
    expect_error(t, c, f"count_lines_of_code(path=<{HUGE} bytes>)", a, bound=HUGE_BOUND)
    a = t.call_tool("search_codebase", {"path": TREE.root, "query": "OpenSocket", "mode": "keyword", "file_types": ["py"] * 20_000,
                                        "exclude_patterns": ["*/never/*%d" % i for i in range(5_000)]}, timeout=HUGE_BOUND + 10)
    expect_answer(t, c, "search_codebase(file_types=<20,000 entries>, exclude_patterns=<5,000 patterns>)", a, HUGE_BOUND)
    if t.kind == "http":
        over = json.dumps({"jsonrpc": "2.0", "id": 61, "method": "tools/call", "params": {
            "name": "search_codebase", "arguments": {"path": TREE.root, "query": "x" * (1_100_000), "mode": "keyword"}}}).encode()
        a = t.post(over, timeout=HUGE_BOUND)
        R.check(c, t.label, a.status == 413 and bool(a.text.strip()) and a.elapsed <= ERROR_BOUND,
                f"a 1.1 MB body (CODESAGE_MAX_REQUEST_SIZE 1 MB): expected 413 with a message, got {a!r}")
        a = t.post((over[i:i + 65536] for i in range(0, len(over), 65536)), headers=dict(HEADERS), timeout=HUGE_BOUND, chunked=True)
        R.check(c, t.label, a.status == 413 and a.elapsed <= ERROR_BOUND,
                f"a 1.1 MB chunked body without Content-Length: expected 413, got {a!r}")
    else:
        # stdio has no size limit: a 1.2 MB line is read and answered.
        line = json.dumps({"jsonrpc": "2.0", "id": 62, "method": "tools/call", "params": {
            "name": "no_such_tool", "arguments": {"query": "N" * 1_200_000}}}).encode()
        a = t.raw(line, timeout=HUGE_BOUND + 10, rid=62)
        expect_error(t, c, "tools/call of an unknown tool with a 1.2 MB argument, as one raw stdin line", a, bound=HUGE_BOUND)


CATASTROPHIC = [r"(a+)+$", r"^(\w+\s?)*$"]


def regex(t):
    c = "regex"
    for pattern in ["(", "[a-", "(?<name", "a{2,1}", "\\", "(?P<x>a)(?P=y)"]:
        a = t.call_tool("search_codebase", {"path": TREE.root, "query": pattern, "mode": "regex"})
        expect_error(t, c, f"invalid regex {pattern!r}", a, needle="regular expression")
    # The hostile patterns at the same time (two clients), each bounded by REGEX_BOUND.
    answers = {}

    def one(pattern):
        answers[pattern] = t.call_tool("search_codebase", {"path": TREE.root, "query": pattern, "mode": "regex"}, timeout=REGEX_BOUND + 1)

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in CATASTROPHIC]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REGEX_BOUND + 10)
    for pattern in CATASTROPHIC:
        a = answers.get(pattern, Answer("timeout", REGEX_BOUND + 10))
        expect_answer(t, c, f"backtracking regex {pattern!r} over a line of 40 'a' then '!'", a, REGEX_BOUND)


def final_sdk_check(t):
    """After everything, the official client still works (HTTP: streamable_http_client)."""
    c = "survives"
    if t.kind != "http":
        ok, a = search_ok(t)
        R.check(c, t.label, ok, f"SDK stdio session: keyword search after all categories: {a!r}")
        return

    async def run():
        transport = httpx2.AsyncHTTPTransport(uds=t.unix_path) if t.unix_path else None
        url = "http://localhost" if t.unix_path else f"http://127.0.0.1:{t.port}"
        async with httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(CALL_TIMEOUT)) as client:
            async with streamable_http_client(url + "/mcp", http_client=client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    with anyio.fail_after(CALL_TIMEOUT * 2):
                        await session.initialize()
                        r = await session.call_tool("search_codebase", {"path": TREE.root, "query": "OpenSocket", "mode": "keyword"})
                    return r.content[0].text if r.content else ""

    try:
        text = anyio.run(run)
        R.check(c, t.label, "pkg/net.go" in text, f"SDK client: keyword search after all categories: {text[:200]!r}")
    except Exception as error:
        R.check(c, t.label, False, f"SDK client after all categories: {error!r}")


def run_categories(t):
    tools = t.list_tools()
    steps = [("malformed", lambda: malformed(t)), ("wrong_types", lambda: wrong_types(t, tools)),
             ("unknown_args", lambda: unknown_arguments(t, tools)), ("unknown_methods", lambda: unknown_methods(t)),
             ("unknown_tools", lambda: unknown_tools(t)), ("numeric", lambda: numeric_limits(t, tools)),
             ("path_traversal", lambda: path_traversal(t, tools)), ("confinement", lambda: confinement(t, tools)),
             ("invalid_utf8", lambda: invalid_utf8(t)), ("deep_nesting", lambda: deep_nesting(t)),
             ("query_syntax", lambda: query_syntax(t)), ("huge", lambda: huge_arguments(t)), ("regex", lambda: regex(t))]
    for name, step in steps:
        started = time.monotonic()
        try:
            step()
        except Exception as error:  # a broken harness step is a failure, not a crash of the whole run
            R.check(name, t.label, False, f"{name} raised {error!r}")
        survives(t, name)
        print(f"  {t.label} {name}: {time.monotonic() - started:.1f} s", flush=True)
    final_sdk_check(t)


# ----------------------------------------------------------------------------------------------------
# Security

def snapshot(folders, skip=()):
    """{path: (kind, size, mtime)} of everything under `folders` (links not followed)."""
    entries = {}
    for folder in folders:
        for directory, names, files in os.walk(folder):
            names[:] = [n for n in names if os.path.join(directory, n) not in skip]
            for name in [directory] + [os.path.join(directory, n) for n in names + files]:
                try:
                    s = os.lstat(name)
                except OSError:
                    continue
                entries[name] = (stat.S_IFMT(s.st_mode), s.st_size if not stat.S_ISDIR(s.st_mode) else 0, s.st_mtime_ns)
    return entries


def shm_entries():
    return {n: os.lstat("/dev/shm/" + n).st_mtime_ns for n in os.listdir("/dev/shm") if n.startswith("codesage")}


def writes(t, tools):
    """Every tool with valid arguments: only <root>/.codesage may change in the tree and ~/.cache/codesage."""
    c = "writes"
    cache = os.path.join(os.path.expanduser("~"), ".cache", "codesage")
    folders = [TREE.work] + ([cache] if os.path.isdir(cache) else [])
    before, shm_before = snapshot(folders), shm_entries()
    for tool in tools:
        a = t.call_tool(tool["name"], valid_arguments(TREE, tool), timeout=60)
        R.check(c, t.label, a.kind == "result" and not a.is_error, f"{tool['name']} with valid arguments: {a!r}")
    time.sleep(0.5)  # background work after an index run (cache warming)
    after, shm_after = snapshot(folders), shm_entries()
    allowed = os.path.join(TREE.root, ".codesage")
    changed = sorted(p for p in set(before) | set(after)
                     if before.get(p) != after.get(p) and not (p == allowed or p.startswith(allowed + os.sep)))
    R.check(c, t.label, not changed, f"writes outside {allowed}: {changed[:20]}")
    R.check(c, t.label, shm_before == shm_after, f"/dev/shm changed: {sorted(set(shm_after) ^ set(shm_before))}")


def socket_modes():
    c = "socket_mode"
    for umask in (None, 0):
        path = os.path.join(TREE.base, f"mode-{umask}.sock")
        t = HTTPTransport("unix", TREE.work, TREE.logs, unix_path=path)
        try:
            if umask is not None:  # restart under a permissive umask
                end(t.process)
                t.start(umask=umask)
            mode = stat.S_IMODE(os.stat(path).st_mode)
            R.check(c, "-", mode == 0o600, f"serve --unix under umask {umask if umask is not None else 'default'}: socket mode {oct(mode)}, expected 0o600")
        finally:
            t.stop()


def token_checks():
    c = "auth_token"
    token = "s3cret-t0ken-for-bad-input"
    for label, unix in (("tcp", None), ("unix", os.path.join(TREE.base, "token.sock"))):
        t = HTTPTransport(label, TREE.work, TREE.logs, unix_path=unix, env={"CODESAGE_AUTH_TOKEN": token})
        try:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                               "params": {"name": "search_codebase", "arguments": {"path": TREE.root, "query": "OpenSocket", "mode": "keyword"}}}).encode()
            cases = [("no token on /mcp", "POST", "/mcp", {}), ("no token on /metrics", "GET", "/metrics", {}),
                     ("wrong token on /mcp", "POST", "/mcp", {"Authorization": "Bearer wrong"}),
                     ("token minus its last character", "POST", "/mcp", {"Authorization": "Bearer " + token[:-1]}),
                     ("token plus a character", "POST", "/mcp", {"Authorization": "Bearer " + token + "x"}),
                     ("token without the Bearer scheme", "POST", "/mcp", {"Authorization": token}),
                     ("token as Basic credentials", "POST", "/mcp", {"Authorization": "Basic " + token}),
                     ("empty Bearer", "POST", "/mcp", {"Authorization": "Bearer "}),
                     ("token in the query string", "POST", f"/mcp?token={token}&access_token={token}", {}),
                     ("token in another header", "POST", "/mcp", {"X-Auth-Token": token, "Cookie": f"token={token}"})]
            for what, method, path, extra in cases:
                try:
                    status, _, text = t.http(method, path, body if method == "POST" else None, {**HEADERS, **extra}, ERROR_BOUND)
                except OSError as error:
                    status, text = None, repr(error)
                R.check(c, label, status == 401 and token not in text, f"{what}: expected 401, got {status} {text[:200]!r}")
            status, _, text = t.http("POST", "/mcp", body, {**HEADERS, "Authorization": f"Bearer {token}"}, CALL_TIMEOUT)
            a = answer_from_json(text, 0, status)
            R.check(c, label, status == 200 and a.kind == "result" and "pkg/net.go" in a.text, f"the right token: expected a search result, got {a!r}")
            status, _, _ = t.http("GET", "/healthz", None, {}, ERROR_BOUND)
            R.check(c, label, status == 200, f"/healthz stays open without a token: {status}")
            a = t.call_tool("get_configuration", {}, timeout=ERROR_BOUND)  # no token: refused before the tool runs
            R.check(c, label, a.status == 401 and token not in a.text, f"get_configuration without a token: {a!r}")
        finally:
            t.stop()
        with open(t.log_path, "rb") as f:
            R.check(c, label, token.encode() not in f.read(), "the token appears in the server's log")


def control_block():
    """`codesage supervise`: the control block (/dev/shm/codesage-*) and the workers' sockets are 0600."""
    c = "control_block"
    folder = os.path.join(TREE.base, "supervised")
    root = os.path.join(folder, "repo")
    os.makedirs(os.path.join(root, "pkg"))
    with open(os.path.join(root, "pkg", "net.py"), "w") as f:
        f.write('def open_socket(host, port):\n    """Opens a TCP connection."""\n    return (host, port)\n')
    sockets = os.path.join(folder, "sockets")
    log = open(os.path.join(TREE.logs, "supervisor.log"), "wb")
    process = spawn(["supervise", "--path", root, "--socket-dir", sockets, "--workers", "1"], stdout=log, stderr=log,
                    stdin=subprocess.DEVNULL, preexec_fn=lambda: os.umask(0))
    log.close()
    name, status, deadline = None, None, time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            out = subprocess.run([BINARY, "status", "--socket-dir", sockets, "--json"], capture_output=True, text=True, timeout=20)
            if out.returncode == 0:
                status = json.loads(out.stdout)
                if status["workers"] and all(w["state"] == "ready" for w in status["workers"]):
                    name = status["supervisor"]["control_block"]
                    break
            time.sleep(0.2)
        if not R.check(c, "-", name is not None, f"supervisor not ready in 60 s (exit {process.poll()}): {status}"):
            return
        segment = "/dev/shm/" + name.lstrip("/")
        mode = stat.S_IMODE(os.stat(segment).st_mode)
        R.check(c, "-", mode == 0o600, f"control block {segment} (supervisor under umask 0): mode {oct(mode)}, expected 0o600")
        for entry in sorted(os.listdir(sockets)):
            s = os.lstat(os.path.join(sockets, entry))
            if stat.S_ISSOCK(s.st_mode):
                R.check(c, "-", stat.S_IMODE(s.st_mode) == 0o600, f"worker socket {entry}: mode {oct(stat.S_IMODE(s.st_mode))}, expected 0o600")
            else:
                R.check(c, "-", stat.S_IMODE(s.st_mode) & 0o022 == 0, f"{entry} in the socket folder is writable by others: {oct(stat.S_IMODE(s.st_mode))}")
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            pass
        R.check(c, "-", process.poll() == 0, f"supervisor after SIGTERM: exit {process.poll()}")
        R.check(c, "-", not os.path.exists(segment), f"control block {segment} still there after the supervisor exited")
    finally:
        end(process, 10)


# ----------------------------------------------------------------------------------------------------

def finish(tree, code=None):
    elapsed = time.monotonic() - STARTED
    print("\n" + R.table(), flush=True)
    for note in R.info:
        print(f"note: [{note['category']}/{note['transport']}] {note['note']}")
    print(f"\n{R.failures} failed checks; {elapsed:.0f} s", flush=True)
    if REPORT:
        with open(REPORT, "w") as f:
            json.dump(R.as_json(), f, indent=2)
    for process in PROCESSES:
        if process.poll() is None:
            process.kill()
    for pid in children():  # the stdio client's server
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if tree:
        shutil.rmtree(tree.base, ignore_errors=True)
    return code if code is not None else (1 if R.failures else 0)


TREE = None


def main():
    global TREE
    TREE = Tree()

    def overtime():
        R.check("deadline", "-", False, f"the run passed {DEADLINE_S} s")
        os._exit(finish(TREE, 1))

    watchdog = threading.Timer(DEADLINE_S, overtime)
    watchdog.daemon = True
    watchdog.start()
    try:
        index(TREE)
        t = StdioTransport(TREE.work, TREE.logs)
        try:
            writes(t, t.list_tools())
            print(f"writes: {time.monotonic() - STARTED:.1f} s", flush=True)
            run_categories(t)
        finally:
            t.stop()
        control_block()
        print(f"control block: {time.monotonic() - STARTED:.1f} s", flush=True)
        for label, unix in (("tcp", None), ("unix", os.path.join(TREE.base, "codesage.sock"))):
            t = HTTPTransport(label, TREE.work, TREE.logs, unix_path=unix)
            try:
                run_categories(t)
            finally:
                t.stop()
            print(f"{label}: {time.monotonic() - STARTED:.1f} s", flush=True)
        socket_modes()
        token_checks()
    except Exception as error:
        R.check("harness", "-", False, f"the run stopped: {error!r}")
    watchdog.cancel()
    return finish(TREE)


if __name__ == "__main__":
    sys.exit(main())
