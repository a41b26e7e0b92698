#!/usr/bin/env python3
"""The Python side of the email benchmark: builds N mails shaped like mojo-bridge's (UTF-8
quoted-printable text, Message-ID, In-Reply-To/References, Reply-To, List-Id, Auto-Submitted)
with the `email` package and sends them with `smtplib` over one SMTP connection.

    smtplib_send.py --port P --n N [--size BYTES]

Prints {"mails": N, "seconds": S, "cpu_s": C} (C: this process's user + system time while sending).
It does what the sink does per mail, minus MOJO and the spool: a favourable baseline.
"""
import argparse, json, os, smtplib, time
from email.message import EmailMessage
from email.utils import formatdate

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--n", type=int, required=True)
ap.add_argument("--size", type=int, default=300)
a = ap.parse_args()
body = ("Alice Example wrote in conversation 11111111-1111-4111-8111-111111111111 at 2026-11-26T10:00:00.000Z:\n\n"
        + ("lorem ipsum dolor sit amet " * (a.size // 27 + 1))[:a.size] + "\n")
conv = "11111111-1111-4111-8111-111111111111"
t0, c0 = time.monotonic(), os.times()
with smtplib.SMTP("127.0.0.1", a.port) as s:
    for i in range(a.n):
        m = EmailMessage()
        m["Date"] = formatdate()
        m["From"] = "Alice Example via MOJO <bridge@bench.test>"
        m["To"] = "desk@bench.test"
        m["Reply-To"] = "Alice Example via MOJO <reply+abcdefghijklmnopqrstuvwxyz234567@bench.test>"
        m["Subject"] = f"Alice Example in {conv}"
        m["Message-ID"] = f"<m.msg_{i:012d}.abcdefgh@bench.test>"
        m["In-Reply-To"] = f"<c.{conv}.abcdefgh@bench.test>"
        m["References"] = f"<c.{conv}.abcdefgh@bench.test>"
        m["List-Id"] = f"MOJO conversation <{conv}.bench.test>"
        m["Auto-Submitted"] = "auto-generated"
        m.set_content(body, charset="utf-8", cte="quoted-printable")
        s.send_message(m, from_addr="bridge@bench.test", to_addrs=["desk@bench.test"])
c1 = os.times()
print(json.dumps({"mails": a.n, "seconds": time.monotonic() - t0, "cpu_s": (c1.user - c0.user) + (c1.system - c0.system)}))
