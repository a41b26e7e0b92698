#!/usr/bin/env python3
"""Generates RegexOracleTable.swift: random patterns of the supported subset, random texts,
and whether Python's `re.search` finds the pattern in each text (the oracle for the
linear-time matcher in Sources/Rules/RegexProgram.swift).

Run: python3 Tests/Oracle/regex_oracle.py > Tests/RulesTests/RegexOracleTable.swift
"""
import random
import re
import signal


class Slow(Exception):
    pass


def _alarm(signum, frame):
    raise Slow()


signal.signal(signal.SIGALRM, _alarm)


def search(compiled, text):
    """re.search, or None when Python itself backtracks for more than 0.2 s."""
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        return bool(compiled.search(text))
    except Slow:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)

rng = random.Random(12)
ALPHABET = "abAB1 _-\n."

def atom(depth):
    r = rng.random()
    if depth < 3 and r < 0.15:
        inner = pattern(depth + 1)
        kind = rng.choice(["(", "(?:", "(?P<g%d>" % rng.randint(0, 9), "(?i:", "(?s:"])
        if kind == "(?P<g%d>":
            pass
        return kind + inner + ")"
    if r < 0.5:
        c = rng.choice("abAB1 _-")
        return c
    if r < 0.58:
        return "."
    if r < 0.72:
        neg = "^" if rng.random() < 0.3 else ""
        items = []
        for _ in range(rng.randint(1, 3)):
            x = rng.random()
            if x < 0.3:
                items.append(rng.choice(["a-b", "A-Z", "0-9", "a-z"]))
            elif x < 0.5:
                items.append(rng.choice([r"\d", r"\w", r"\s", r"\W"]))
            else:
                items.append(rng.choice("ab1_.-" if not items else "ab1_."))
        body = "".join(items)
        if body.startswith("-") or body.startswith("^"):
            body = "a" + body
        return "[" + neg + body + "]"
    if r < 0.82:
        return rng.choice([r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", r"\.", r"\-", r"\n"])
    if r < 0.9:
        return rng.choice(["^", "$", r"\b", r"\B", r"\A"])
    return rng.choice("ab")

def quantify(a):
    if a in ("^", "$", r"\b", r"\B", r"\A"):
        return a
    r = rng.random()
    if r < 0.6:
        return a
    q = rng.choice(["*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}", "*?", "+?", "??", "{1,2}?"])
    return a + q

def sequence(depth):
    return "".join(quantify(atom(depth)) for _ in range(rng.randint(1, 4)))

def pattern(depth=0):
    n = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    return "|".join(sequence(depth) for _ in range(n))

def text():
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))

def swift_string(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'

FLAG_BITS = {"i": re.I, "s": re.S, "m": re.M}

rows = []
fixed = [
    (r"^(a+)+$", "", "a" * 14 + "!"),
    (r"^(a+)+$", "", "a" * 20),
    (r"(a|aa)+$", "", "a" * 16 + "b"),
    (r"\bhelp\b", "i", "Need HELP now"),
    (r"\bhelp\b", "i", "helpful"),
    (r"^urgent:", "im", "hello\nUrgent: fix"),
    (r"^urgent:", "i", "hello\nUrgent: fix"),
    (r"a.c", "", "a\nc"),
    (r"a.c", "s", "a\nc"),
    (r"end$", "", "the end\n"),
    (r"end$", "", "the end\n\n"),
    (r"end$", "m", "the end\nmore"),
    (r"[^\s,]+@x\.org", "", "mail bob@x.org now"),
    (r"caf\u00e9", "", "un café"),
    (r"\x41B", "", "zABz"),
    (r"a{2,3}b", "", "aab"),
    (r"a{2,3}b", "", "ab"),
    (r"x{,2}y", "", "xxxy"),
    (r"a{,}b", "", "a{,}b"),
    (r"a{,}b", "", "aaab"),
    (r"a{}b", "", "a{}b"),
    (r"a{b", "", "a{b"),
    (r"\d+", "", "abc ٣"),
    (r"\w+", "", "ñ"),
    (r"ÉCOLE", "i", "école"),
    (r"[a-z]+", "i", "ABC"),
    (r"[^a-z]", "i", "ABC"),
    (r"a b # comment", "x", "ab"),
    (r"a\ b", "x", "a b"),
    (r"(?i)abc", "", "xABCx"),
    (r"(?i:a)b", "", "AB"),
    (r"(?i:a)b", "", "Ab"),
    (r"", "", ""),
    (r"|a", "", "b"),
    (r"()", "", "x"),
    (r"(?:)*", "", "x"),
    (r"(a*)*b", "", "aaaaaaaaaaaac"),
    (r"\Bb", "", "ab"),
    (r"\Bb", "", " b"),
    (r"[\]]", "", "]"),
    (r"[]a]", "", "]"),
    (r"[a-]", "", "-"),
    (r"\.\*", "", "a.*b"),
    (r"\t", "", "a\tb"),
]
for p, f, t in fixed:
    flags = sum(FLAG_BITS.get(c, 0) for c in f) | (re.X if "x" in f else 0)
    rows.append((p, f, t, bool(re.search(p, t, flags))))

seen = set()
while len(rows) < 3000:
    p = pattern()
    f = "".join(c for c in "ism" if rng.random() < 0.2)
    flags = sum(FLAG_BITS[c] for c in f)
    try:
        compiled = re.compile(p, flags)
    except re.error:
        continue
    for _ in range(3):
        t = text()
        key = (p, f, t)
        if key in seen:
            continue
        seen.add(key)
        if t == "" and "\\B" in p:
            continue  # Python before 3.14 never matches \B in an empty string; PCRE and we do
        found = search(compiled, t)
        if found is not None:
            rows.append((p, f, t, found))

print("// Generated by Tests/Oracle/regex_oracle.py from Python's `re`; do not edit.")
print("// pattern, flags, text, whether re.search finds the pattern in the text.")
print("enum RegexOracleTable {")
print("    static let rows: [(pattern: String, flags: String, text: String, matches: Bool)] = [")
for p, f, t, m in rows:
    print("        (%s, %s, %s, %s)," % (swift_string(p), swift_string(f), swift_string(t), "true" if m else "false"))
print("    ]")
print("}")
