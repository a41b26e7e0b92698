#!/usr/bin/env python3
"""The consumer end of the benchmark: reads JSON lines on stdin (from `mojo-bridge tail`, a pipe
sink, or python_relay.py) and reports to a file, so that the one reading it is not in the
measured pipeline.

    sink.py count EVERY REPORT    appends `<count> <monotonic ns>` to REPORT each time EVERY more
                                  lines arrived (reads 1 MiB at a time; counting costs ~nothing)
    sink.py latency W N REPORT    for each line, now - T where the content holds `T<20 digits>`
                                  (the firehose's monotonic send time); after W lines (warm-up)
                                  writes their latencies (ns) as a JSON list to REPORT.warm, after
                                  N more to REPORT
    sink.py echo                  for each line holding `T<20 digits>`, prints `pong T<digits>` at
                                  once (a plain text reply line: message:send back to MOJO)
    sink.py slow RATE EVERY REPORT     as count, reading at most RATE bytes per second (a slow
                                  consumer: `tail | sink.py slow 1000000 ...` is a 1 MB/s reader)
    sink.py lines PER_S EVERY REPORT   as count, reading one line at a time, PER_S lines per second
                                  (a slow child: 1000 is a line per millisecond)
    sink.py answer EVERY REPORT   as count, and answers every line with a plain text line `ok`
                                  (message:send to the event's conversation: the reply path)
"""
import json
import os
import re
import sys
import time

STAMP = re.compile(rb"T(\d{20})")


def main():
    mode = sys.argv[1]
    if mode == "count":
        every, report = int(sys.argv[2]), sys.argv[3]
        count = 0
        mark = every
        with open(report, "a", buffering=1) as out:
            while True:
                chunk = os.read(0, 1 << 20)
                if not chunk:
                    break
                count += chunk.count(b"\n")
                if count >= mark:
                    out.write(f"{count} {time.monotonic_ns()}\n")
                    mark = (count // every + 1) * every
    elif mode in ("slow", "lines", "answer"):
        pace = int(sys.argv[2]) if mode != "answer" else 0
        every, report = (int(sys.argv[3]), sys.argv[4]) if mode != "answer" else (int(sys.argv[2]), sys.argv[3])
        count, got, mark, t0 = 0, 0, every, time.monotonic()
        inp, out = sys.stdin.buffer, sys.stdout.buffer
        with open(report, "a", buffering=1) as rep:
            while True:
                if mode == "slow":
                    chunk = os.read(0, 16384)
                    got += len(chunk)
                    n = chunk.count(b"\n")
                else:
                    chunk = inp.readline()
                    n = 1 if chunk else 0
                if not chunk:
                    break
                count += n
                if mode == "answer":
                    out.write(b"ok\n")
                    out.flush()
                if count >= mark:
                    rep.write(f"{count} {time.monotonic_ns()}\n")
                    mark = (count // every + 1) * every
                ahead = (got if mode == "slow" else count) / pace - (time.monotonic() - t0) if pace else 0
                if ahead > 0:
                    time.sleep(ahead)
    elif mode == "latency":
        warm, n, report = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        targets = [(warm, report + ".warm"), (n, report)]
        lat = []
        for line in sys.stdin.buffer:
            t = time.monotonic_ns()
            m = STAMP.search(line)
            if m:
                lat.append(t - int(m.group(1)))
            if targets and len(lat) == targets[0][0]:
                path = targets.pop(0)[1]
                with open(path + ".tmp", "w") as out:
                    json.dump(lat, out)
                os.rename(path + ".tmp", path)
                lat = []
    elif mode == "echo":
        out = sys.stdout.buffer
        for line in sys.stdin.buffer:
            m = STAMP.search(line)
            if m:
                out.write(b"pong T" + m.group(1) + b"\n")
                out.flush()
    # Drain whatever else comes, so the writer never sees EPIPE.
    while os.read(0, 1 << 16):
        pass


if __name__ == "__main__":
    main()
