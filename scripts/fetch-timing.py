#!/usr/bin/env python3
"""Times downloads over ONE keep-alive HTTP connection (docs/performance.md): Python 3 standard
library and curl, loopback only. Meant for a fresh server: it registers an account.

  fetch-timing.py [BASE_URL] [--runs N] [--file-kib K] [--file-fetches F]

BASE_URL defaults to http://127.0.0.1:8000. Each run makes two curl invocations, each of
which reuses one connection for all its addresses:
  - emoji: every picture of the server's emoji set (/api/emoji, then /static/emoji/...);
  - file:  F downloads (default 100) of one K KiB upload (default 4) from the upload store,
           by its uploader (GET /api/files/ID/content).
Prints per run the wall time, the median and 90th percentile per download, how many took over
10 ms and how many connections curl opened (1: all over the same one); then the medians of
the runs' wall times. At most 20 runs; every curl call stops after 120 s.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")


def die(message):
    print(f"fetch-timing: {message}", file=sys.stderr)
    sys.exit(1)


def api(base, method, path, body=None, token=None, raw=None):
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if raw is not None:
        data = raw
        headers["Content-Type"] = "application/octet-stream"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def timed_curl(config_lines, workdir, label):
    """Runs one curl over all addresses of `config_lines`; returns a summary line and the wall time."""
    config = os.path.join(workdir, f"{label}.conf")
    with open(config, "w") as f:
        f.write("\n".join(config_lines) + "\n")
    started = time.monotonic()
    out = subprocess.run(
        ["curl", "-sS", "--fail", "--max-time", "120", "-K", config, "-w", "%{num_connects} %{time_total}\\n"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    if out.returncode != 0:
        die(f"curl failed ({label}): {out.stderr.strip()}")
    rows = [line.split() for line in out.stdout.splitlines() if line.strip()]
    times = sorted(float(r[1]) * 1000 for r in rows)
    connects = sum(int(r[0]) for r in rows)
    slow = sum(1 for t in times if t > 10)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    line = (
        f"{label:>5}: {wall:7.3f} s for {len(rows)} downloads, median {statistics.median(times):6.2f} ms, "
        f"p90 {p90:6.2f} ms, {slow} over 10 ms, {connects} connection(s)"
    )
    return line, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--file-kib", type=int, default=4)
    parser.add_argument("--file-fetches", type=int, default=100)
    args = parser.parse_args()
    base = args.base.rstrip("/")
    if not base.startswith(LOOPBACK):
        die("only loopback addresses (http://127.0.0.1:PORT)")
    if not 1 <= args.runs <= 20 or not 1 <= args.file_kib <= 65536 or not 1 <= args.file_fetches <= 1000:
        die("--runs is 1 to 20, --file-kib 1 to 65536, --file-fetches 1 to 1000")

    manifest = api(base, "GET", "/api/emoji")
    emoji = [f'url = "{base}/static/emoji/{e["image"]}"\noutput = "/dev/null"' for e in manifest["emoji"]]

    name = "timing" + uuid.uuid4().hex[:8]
    password = "fetch-timing password"
    api(base, "POST", "/api/register", {"username": name, "display_name": name, "password": password})
    token = api(base, "POST", "/api/login", {"username": name, "password": password})["token"]
    upload = api(base, "POST", "/api/files?name=timing.bin", token=token, raw=os.urandom(args.file_kib * 1024))
    file_url = f"{base}/api/files/{upload['id']}/content"
    files = [f'header = "Authorization: Bearer {token}"'] + [
        f'url = "{file_url}"\noutput = "/dev/null"' for _ in range(args.file_fetches)
    ]

    walls = {"emoji": [], "file": []}
    with tempfile.TemporaryDirectory() as workdir:
        for run in range(1, args.runs + 1):
            for label, lines in (("emoji", emoji), ("file", files)):
                line, wall = timed_curl(lines, workdir, label)
                walls[label].append(wall)
                print(f"run {run} {line}", flush=True)
    for label, values in walls.items():
        print(f"median of {len(values)} runs, {label}: {statistics.median(values):.3f} s")


if __name__ == "__main__":
    main()
