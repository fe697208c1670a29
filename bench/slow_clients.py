#!/usr/bin/env python3
"""Slow clients against the Slack Events receiver of a running `kotae serve` (issue 14).

Starts `kotae serve` (the binary given as the first argument) in HTTP mode with a minimal
fake Slack Web API (auth.test only), then opens CLIENTS connections (default 250) that each
send headers for a BODY_KIB KiB body (default 400) and all of it but the last byte, and hold
the connection. Prints kotae's resident memory (VmRSS) idle, at its peak while the clients
hold their bodies, when the receiver's body timeout has cut them (5 s), and after they all
left (the receiver gives freed memory back within 5 s of its last connection). Also prints
how many connections were refused (503) beyond slack.max_connections (MAX_CONNECTIONS,
default 256).

Run through bench/slow_clients.sh, which builds the release binary first.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KOTAE = sys.argv[1]
CLIENTS = int(os.environ.get("CLIENTS", "250"))
BODY = int(os.environ.get("BODY_KIB", "400")) * 1024
MAX_CONNECTIONS = int(os.environ.get("MAX_CONNECTIONS", "256"))


class Api(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        self.rfile.read(n)
        body = json.dumps({"ok": True, "user_id": "UKOTAE0001", "bot_id": "BKOTAE0001",
                           "team": "bench", "ts": "1.1", "channel": "C0"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    port = free_port()
    tmp = tempfile.mkdtemp()
    cfg = os.path.join(tmp, "kotae.toml")
    with open(cfg, "w") as f:
        f.write(f'database = "kotae.db"\n[slack]\nmode = "http"\nlisten = "127.0.0.1:{port}"\n'
                f'api_base_url = "http://127.0.0.1:{api.server_address[1]}/api/"\n'
                f"max_connections = {MAX_CONNECTIONS}\n")
    env = {"PATH": os.environ.get("PATH", ""), "KOTAE_LOG": "error",
           "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-secret"}
    proc = subprocess.Popen([KOTAE, "serve", "--config", cfg], env=env)
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(1)
        idle = rss_mib(proc.pid)
        head = (f"POST /slack/events HTTP/1.1\r\nHost: kotae\r\nContent-Type: application/json\r\n"
                f"Content-Length: {BODY}\r\nX-Slack-Request-Timestamp: 1\r\n"
                f"X-Slack-Signature: v0={'0' * 64}\r\n\r\n").encode()
        socks, refused = [], 0
        started = time.time()
        for _ in range(CLIENTS):
            s = socket.create_connection(("127.0.0.1", port))
            s.settimeout(0.5)
            try:
                s.sendall(head)
                s.sendall(b"x" * (BODY - 1))
            except OSError:
                refused += 1
            socks.append(s)
        peak = rss_mib(proc.pid)
        while time.time() - started < 7:
            peak = max(peak, rss_mib(proc.pid))
            time.sleep(0.1)
        cut = rss_mib(proc.pid)
        answers = {}
        for s in socks:
            try:
                first = s.recv(64).split(b" ")[1:2]
                key = first[0].decode() if first else "closed"
            except OSError:
                key = "no answer"
            answers[key] = answers.get(key, 0) + 1
            s.close()
        time.sleep(6)
        after = rss_mib(proc.pid)
        print(f"clients {CLIENTS} x {BODY // 1024} KiB body (all but 1 byte), "
              f"max_connections {MAX_CONNECTIONS}")
        print(f"answers to the clients: {answers}; send failed: {refused}")
        print(f"RSS MiB: idle {idle:.1f}, peak {peak:.1f}, after the body timeout {cut:.1f}, "
              f"6 s after the clients left {after:.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    main()
