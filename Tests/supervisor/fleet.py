"""Drives `codesage supervise` and Debian's nginx for the supervisor tests and scripts/bench-supervisor.

Standard library only. The nginx configuration is config/nginx.conf with the socket folder, the worker
list and the listen port substituted, inside a minimal main configuration that runs nginx unprivileged
in a temporary prefix.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (a worker's own socket, bypassing nginx)."""

    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def tool_call(connection, name, arguments, request_id=1):
    """POSTs an MCP tools/call; returns (HTTP status, parsed body or None)."""
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                       "params": {"name": name, "arguments": arguments}})
    connection.request("POST", "/mcp", body=body, headers=HEADERS)
    response = connection.getresponse()
    data = response.read()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, None


def call_ok(status, body):
    """Whether a tools/call answered with a result that is not a tool error."""
    return status == 200 and body is not None and "result" in body and not body["result"].get("isError", False)


class Supervisor:
    def __init__(self, binary, root, socket_dir, workers, log_path, env=None, extra=()):
        self.socket_dir = socket_dir
        self.binary = binary
        self.log = open(log_path, "ab")
        environment = dict(os.environ)
        environment.update(env or {})
        self.env = environment
        self.process = subprocess.Popen(
            [binary, "supervise", "--path", root, "--socket-dir", socket_dir, "--workers", str(workers), *extra],
            stdout=self.log, stderr=self.log, env=environment)
        self.workers = workers

    def status(self):
        out = subprocess.run([self.binary, "status", "--socket-dir", self.socket_dir, "--json"],
                             capture_output=True, text=True, env=self.env)
        if out.returncode != 0:
            return None
        return json.loads(out.stdout)

    def wait_ready(self, timeout=180, exclude_pids=()):
        """Waits until every slot is ready with a live pid not in `exclude_pids`; returns the status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"supervisor exited with {self.process.returncode}")
            status = self.status()
            if status and all(w["state"] == "ready" and w["pid"] not in exclude_pids and pid_alive(w["pid"])
                              for w in status["workers"]):
                return status
            time.sleep(0.05)
        raise AssertionError(f"workers not ready after {timeout} s: {self.status()}")

    def worker_pids(self):
        return [w["pid"] for w in self.status()["workers"]]

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def pid_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def smaps_rollup(pid):
    """The kB fields of /proc/PID/smaps_rollup, in bytes."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            m = re.match(r"(\w+):\s+(\d+) kB", line)
            if m:
                fields[m.group(1)] = int(m.group(2)) * 1024
    return fields


class Proxy:
    """A load balancer run in the foreground on a loopback port: started, awaited, connected to, stopped."""

    name = "proxy"
    stop_signal = signal.SIGTERM

    def launch(self, command, **popen):
        """Starts `command` and waits (10 s at most) until it accepts connections on `self.port`."""
        self.process = subprocess.Popen(command, **popen)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start listening")

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self):
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Nginx(Proxy):
    """Debian's nginx, unprivileged, in a temporary prefix, with config/nginx.conf for `workers` sockets."""

    name = "nginx"
    stop_signal = signal.SIGQUIT  # graceful

    def __init__(self, prefix, socket_dir, workers):
        self.prefix = prefix
        self.port = free_port()
        os.makedirs(prefix, exist_ok=True)
        with open(os.path.join(REPO, "config", "nginx.conf")) as f:
            site = f.read()
        servers = "".join(f"    server unix:{socket_dir}/worker-{i}.sock max_fails=1 fail_timeout=2s;\n" for i in range(workers))
        site = re.sub(r"(    server unix:/run/codesage/worker-\d+\.sock[^\n]*\n)+", servers, site)
        site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        with open(os.path.join(prefix, "codesage-site.conf"), "w") as f:
            f.write(site)
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = f"""{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/codesage-site.conf;
}}
"""
        path = os.path.join(prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(main)
        binary = "/usr/sbin/nginx"
        check = subprocess.run([binary, "-t", "-p", prefix, "-c", path], capture_output=True, text=True)
        if check.returncode != 0:
            raise AssertionError(f"nginx -t: {check.stderr}")
        self.launch([binary, "-p", prefix, "-c", path], stderr=subprocess.DEVNULL)


class HAProxy(Proxy):
    """Debian's HAProxy in the foreground with config/haproxy.cfg for `workers` sockets."""

    name = "haproxy"

    def __init__(self, prefix, socket_dir, workers):
        self.port = free_port()
        os.makedirs(prefix, exist_ok=True)
        with open(os.path.join(REPO, "config", "haproxy.cfg")) as f:
            text = f.read()
        servers = "".join(f"    server w{i} unix@{socket_dir}/worker-{i}.sock check inter 1s fall 2 rise 1\n" for i in range(workers))
        text = re.sub(r"(    server w\d+ unix@/run/codesage/worker-\d+\.sock[^\n]*\n)+", servers, text)
        text = text.replace("bind 127.0.0.1:8080", f"bind 127.0.0.1:{self.port}")
        path = os.path.join(prefix, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(text)
        check = subprocess.run(["/usr/sbin/haproxy", "-c", "-f", path], capture_output=True, text=True)
        if check.returncode != 0:
            raise AssertionError(f"haproxy -c: {check.stdout} {check.stderr}")
        self.launch(["/usr/sbin/haproxy", "-db", "-f", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Stream:
    """Clients sending tool calls through nginx in a loop until stopped; counts answers and failures."""

    def __init__(self, nginx, calls, clients=2):
        self.nginx = nginx
        self.calls = calls
        self.ok = 0
        self.failures = []
        self.latencies = []
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(clients)]
        for t in self.threads:
            t.start()

    def client(self, index):
        connection = self.nginx.connection()
        n = 0
        while self.running:
            name, arguments = self.calls[(index + n) % len(self.calls)]
            n += 1
            started = time.monotonic()
            try:
                status, body = tool_call(connection, name, arguments, request_id=n)
                good = call_ok(status, body)
                detail = None if good else f"{name}: HTTP {status}: {json.dumps(body)[:300] if body else ''}"
            except Exception as error:  # a failed request, counted, and the connection replaced
                good, detail = False, f"{name}: {type(error).__name__}: {error}"
                connection.close()
                connection = self.nginx.connection()
            with self.lock:
                if good:
                    self.ok += 1
                    self.latencies.append(time.monotonic() - started)
                else:
                    self.failures.append(detail)
        connection.close()

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(120)
        return self.ok, self.failures
