#!/usr/bin/env python3
"""Per-image OCR latency and the worker's peak memory, on the committed test screenshots.

Starts `kotae ocr-worker` (release build) as the bot does, sends each image of
tests/ocr/images/ (the bomb aside) ROUNDS times through the same pipe protocol
(4-byte little-endian length + bytes; the answer is JSON), and prints the first image
(models loaded on it), p50/p95 of the rest, CPU time and the worker's peak RSS (VmHWM).

    cargo build --release && python3 bench/ocr_bench.py [ROUNDS] [THREADS]
"""
import json
import os
import resource
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "tests", "ocr", "images")
KOTAE = os.path.join(ROOT, "target", "release", "kotae")


def send(proc, data):
    proc.stdin.write(struct.pack("<I", len(data)) + data)
    proc.stdin.flush()
    (n,) = struct.unpack("<I", proc.stdout.read(4))
    return json.loads(proc.stdout.read(n))


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    threads = sys.argv[2] if len(sys.argv) > 2 else "1"
    names = sorted(n for n in os.listdir(IMAGES) if n != "bomb.png")
    proc = subprocess.Popen([KOTAE, "ocr-worker", "--threads", threads],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    first = None
    times = []
    t0 = time.perf_counter()
    for r in range(rounds):
        for name in names:
            with open(os.path.join(IMAGES, name), "rb") as f:
                data = f.read()
            start = time.perf_counter()
            reply = send(proc, data)
            ms = (time.perf_counter() - start) * 1000
            if "Ok" not in reply:
                sys.exit(f"{name}: {reply}")
            if first is None:
                first = (name, ms)
            else:
                times.append(ms)
    wall = time.perf_counter() - t0
    hwm = status(proc.pid, "VmHWM")
    rss = status(proc.pid, "VmRSS")
    proc.stdin.close()
    proc.wait()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"images: {len(names)} x {rounds} rounds, ONNX Runtime threads: {threads}")
    print(f"first image (loads the models): {first[1]:.0f} ms ({first[0]})")
    print(f"then: p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms, max {times[-1]:.0f} ms")
    print(f"worker CPU: {usage.ru_utime + usage.ru_stime:.1f} s for {wall:.1f} s wall")
    print(f"worker peak RSS (VmHWM): {hwm / 1024:.0f} MB; RSS at the end {rss / 1024:.0f} MB")
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
