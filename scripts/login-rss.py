#!/usr/bin/env python3
"""Measures the server's memory across repeated logins (docs/performance.md): Python 3 standard
library only, loopback only.

  login-rss.py SERVER_BINARY [--logins N] [--clients C] [--env KEY=VALUE ...] [--smaps]

Starts SERVER_BINARY on a fresh SQLite database in a temporary directory (both ports 0, bound
to 127.0.0.1), registers C accounts, then logs in N times in total from C clients at once
(each client its own account, one keep-alive connection each) and prints the server's VmRSS
and VmHWM (from /proc/PID/status) after 1, 10, 100, 1,000, ... logins. N is at most 10,000
and the run stops after 600 seconds whatever happens. --env passes extra variables to the
server (for example MALLOC_ARENA_MAX=1 to compare allocator settings). --smaps prints, at the
end, the server's largest memory mappings (/proc/PID/smaps) and the size of its database files.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

MAX_LOGINS = 10_000
DEADLINE_SECS = 600.0
PASSWORD = "login-rss password"


def die(message):
    print(f"login-rss: {message}", file=sys.stderr)
    sys.exit(1)


def status(pid):
    """VmRSS, VmHWM (KiB) and the thread count of process `pid`."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
    return int(fields["VmRSS"]), int(fields["VmHWM"]), int(fields["Threads"])


def print_smaps(pid, count=12):
    """The `count` mappings of process `pid` with the most resident memory."""
    mappings = []
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            first = line.split()[0]
            if "-" in first and not first.endswith(":"):
                start, end = (int(x, 16) for x in first.split("-"))
                name = line.split()[5] if len(line.split()) > 5 else "[anon]"
                current = {"size": (end - start) // 1024, "name": name, "Rss": 0}
                mappings.append(current)
            elif first == "Rss:" and current is not None:
                current["Rss"] = int(line.split()[1])
    mappings.sort(key=lambda m: m["Rss"], reverse=True)
    print(f"largest mappings of {len(mappings)}: size KiB, resident KiB, name")
    for m in mappings[:count]:
        print(f"  {m['size']:>9} {m['Rss']:>9}  {m['name']}")


def post(conn, path, body):
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server")
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--smaps", action="store_true", help="print the largest mappings at the end")
    args = parser.parse_args()
    if not 1 <= args.logins <= MAX_LOGINS:
        die(f"--logins is 1 to {MAX_LOGINS}")
    if not 1 <= args.clients <= 16:
        die("--clients is 1 to 16")

    workdir = tempfile.mkdtemp(prefix="kith-login-rss-")
    env = dict(os.environ)
    env.update(
        KITH_SERVER_IP="127.0.0.1",
        KITH_HTTP_PORT="0",
        KITH_SOCKET_PORT="0",
        KITH_DATABASE_URL="",
        KITH_DATA_DIR=os.path.join(workdir, "data"),
        KITH_UPLOAD_DIR=os.path.join(workdir, "data", "uploads"),
        RUST_LOG=env.get("RUST_LOG", "error"),
    )
    for pair in args.env:
        key, sep, value = pair.partition("=")
        if not sep:
            die(f"--env wants KEY=VALUE, not {pair!r}")
        env[key] = value
    server = subprocess.Popen(
        [os.path.abspath(args.server)], cwd=workdir, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline()
        match = re.search(r"HTTP on 127\.0\.0\.1:(\d+)", line)
        if not match:
            die(f"unexpected first line from the server: {line!r}")
        port = int(match.group(1))
        run(server.pid, port, args)
        if args.smaps:
            print_smaps(server.pid)
            data = os.path.join(workdir, "data")
            names = sorted(n for n in os.listdir(data) if n.startswith("kith.db"))
            sizes = {n: os.path.getsize(os.path.join(data, n)) for n in names}
            print("database files (bytes):", ", ".join(f"{n} {size}" for n, size in sizes.items()))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def run(pid, port, args):
    deadline = time.monotonic() + DEADLINE_SECS
    rss, hwm, threads = status(pid)
    print(f"{'logins':>7} {'VmRSS MiB':>10} {'VmHWM MiB':>10} {'threads':>8} {'seconds':>8}")
    print(f"{0:>7} {rss / 1024:>10.1f} {hwm / 1024:>10.1f} {threads:>8} {0:>8.1f}", flush=True)

    names = [f"rss{i}" for i in range(args.clients)]
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in names]
    for conn, name in zip(conns, names):
        code, data = post(conn, "/api/register", {"username": name, "display_name": name, "password": PASSWORD})
        if code != 201:
            die(f"register {name}: {code} {data[:200]!r}")
    rss, hwm, threads = status(pid)
    print(f"{'(reg)':>7} {rss / 1024:>10.1f} {hwm / 1024:>10.1f} {threads:>8} {0:>8.1f}", flush=True)

    checkpoints = [n for n in (1, 10, 100, 1000, 10_000) if n < args.logins] + [args.logins]
    lock = threading.Lock()
    done = 0
    failures = []
    started = time.monotonic()

    def client(conn, name, target):
        nonlocal done
        while True:
            with lock:
                if done >= target or failures or time.monotonic() > deadline:
                    return
                done += 1
            code, data = post(conn, "/api/login", {"username": name, "password": PASSWORD})
            if code != 200:
                with lock:
                    failures.append(f"login {name}: {code} {data[:200]!r}")
                return

    # The clients run in rounds that end at each checkpoint, so each figure is taken after
    # exactly that many logins.
    for target in checkpoints:
        workers = [
            threading.Thread(target=client, args=(conn, name, target))
            for conn, name in list(zip(conns, names))[: max(1, min(args.clients, target - done))]
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if failures:
            die(failures[0])
        rss, hwm, threads = status(pid)
        elapsed = time.monotonic() - started
        print(f"{done:>7} {rss / 1024:>10.1f} {hwm / 1024:>10.1f} {threads:>8} {elapsed:>8.1f}", flush=True)
        if time.monotonic() > deadline:
            die(f"stopped after {DEADLINE_SECS:.0f} s at {done} logins")

if __name__ == "__main__":
    main()
