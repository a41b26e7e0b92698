#!/bin/sh
# Builds the libFuzzer targets (with AddressSanitizer), seeds their corpora and runs each one.
#
# Usage: Tests/Fuzz/run.sh [runs] [target...]   Run from anywhere.
#   runs     libFuzzer -runs per target (default 1000000)
#   target   websocket, engineio, socketio, config, regex, mail (default: all six, in that order)
#
# Prints one line per target, "fuzz <name>: <N> runs, <result>", and exits non-zero if any target
# crashed (or failed to build). Binaries, corpora, logs (<name>.log) and crash files
# (<name>-crash-<sha1>) go to .build-fuzz/, which git ignores. See Tests/Fuzz/README.md.
set -eu
cd "$(dirname "$0")/../.."
RUNS="${1:-1000000}"
[ $# -gt 0 ] && shift
TARGETS="${*:-websocket engineio socketio config regex mail}"
OUT=.build-fuzz
SWIFTC_FUZZ="swiftc -sanitize=fuzzer,address -parse-as-library -O"
# Let libFuzzer handle traps (and write the crash file) instead of Swift's slow backtracer.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$OUT"

# Sources/JSON as its own module, as in the package (SocketIO sources `import JSON`).
build_json() {
    [ -f "$OUT/json/libJSON.a" ] && [ -z "$(find Sources/JSON -newer "$OUT/json/libJSON.a")" ] && return 0
    mkdir -p "$OUT/json"
    $SWIFTC_FUZZ -emit-library -static -emit-module -module-name JSON \
        -emit-module-path "$OUT/json/JSON.swiftmodule" Sources/JSON/*.swift -o "$OUT/json/libJSON.a"
}

# lld avoids gold's warnings about the sanitizer runtime's local symbols; -lm for trunc (Int(exactly:)).
build() {
    case "$1" in
    websocket)
        $SWIFTC_FUZZ -module-name WebSocketFuzz -use-ld=lld \
            Sources/WebSocket/*.swift Tests/Fuzz/Common/*.swift Tests/Fuzz/WebSocketFuzz/main.swift -o "$OUT/websocket-fuzz" ;;
    engineio)
        build_json
        $SWIFTC_FUZZ -module-name EngineIOFuzz -use-ld=lld -I "$OUT/json" -L "$OUT/json" -lJSON -lm \
            Sources/SocketIO/*.swift Tests/Fuzz/Common/*.swift Tests/Fuzz/EngineIOFuzz/main.swift -o "$OUT/engineio-fuzz" ;;
    socketio)
        build_json
        $SWIFTC_FUZZ -module-name SocketIOFuzz -use-ld=lld -I "$OUT/json" -L "$OUT/json" -lJSON -lm \
            Sources/SocketIO/*.swift Tests/Fuzz/Common/*.swift Tests/Fuzz/SocketIOFuzz/main.swift -o "$OUT/socketio-fuzz" ;;
    config)
        build_json
        $SWIFTC_FUZZ -module-name ConfigFuzz -use-ld=lld -I "$OUT/json" -L "$OUT/json" -lJSON -lm \
            Sources/Rules/*.swift Tests/Fuzz/Common/*.swift Tests/Fuzz/ConfigFuzz/main.swift -o "$OUT/config-fuzz" ;;
    regex)
        build_json
        $SWIFTC_FUZZ -module-name RegexFuzz -use-ld=lld -I "$OUT/json" -L "$OUT/json" -lJSON -lm \
            Sources/Rules/*.swift Tests/Fuzz/Common/*.swift Tests/Fuzz/RegexFuzz/main.swift -o "$OUT/regex-fuzz" ;;
    mail)
        $SWIFTC_FUZZ -module-name MailFuzz -use-ld=lld \
            Sources/Mail/*.swift Tests/Fuzz/Common/*.swift Tests/Fuzz/MailFuzz/main.swift -o "$OUT/mail-fuzz" ;;
    *)
        echo "run.sh: unknown target '$1' (websocket, engineio, socketio, config, regex, mail)" >&2
        return 1 ;;
    esac
}

# seed <dir> <name> <printf format> [args]: one valid input (octal escapes: \036 is the record separator).
seed() {
    file="$1/seed-$2"
    format="$3"
    shift 3
    # shellcheck disable=SC2059
    printf "$format" "$@" > "$file"
}

OPEN='0{"sid":"a","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
seed_corpus() {
    dir="$OUT/$1-corpus"
    mkdir -p "$dir"
    case "$1" in
    websocket)
        seed "$dir" text '\201\005hello'
        seed "$dir" binary '\202\003\001\002\003'
        seed "$dir" ping '\211\004ping'
        seed "$dir" close '\210\002\003\350'
        seed "$dir" fragments '\001\003hel\200\002lo'
        seed "$dir" long '\201\176\000\200%0128d' 0 ;;
    engineio)
        seed "$dir" open "$OPEN"
        seed "$dir" ping '2'
        seed "$dir" probe '3probe'
        seed "$dir" event '42["message:new",{"message":{"id":"m"}}]'
        seed "$dir" binary-event '451-["ev",{"_placeholder":true,"num":0}]'
        seed "$dir" payload "$OPEN"'\0362\03642["message:new",{"message":{"id":"m"}}]\036bAQIDBA==\0366\0361'
        seed "$dir" payload-binary '451-["ev",{"_placeholder":true,"num":0}]\036bAAECAw==\0363probe\0365' ;;
    socketio)
        seed "$dir" connect '0{"sid":"s","pid":"p"}'
        seed "$dir" event '2["message:new",{"message":{"id":"m"}}]'
        seed "$dir" event-ack '2/chat,17["ev",1,"x"]'
        seed "$dir" ack '30["ok"]'
        seed "$dir" binary-event '51-["ev",{"_placeholder":true,"num":0}]'
        seed "$dir" binary-ack '62-/admin,3[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
        seed "$dir" connect-error '4{"message":"nope","data":{"x":1}}'
        seed "$dir" session '0{"sid":"s","pid":"p"}\0362["message:new",{"a":1},"off1"]\03630["ok"]\03651-["ev",{"_placeholder":true,"num":0}]\036bAQID\0361'
        seed "$dir" json '{"a":[1,-2.5e-3,"\\u00e9\\n\\ud83d\\ude00",true,false,null],"b":{}}' ;;
    config)
        cp Config/bridge.conf "$dir/seed-shipped"
        for f in Config/examples/*.rules; do cp "$f" "$dir/seed-$(basename "$f")"; done
        seed "$dir" header 'server { url = "wss://x"  connect_timeout = 10s }\ntenant t { token = env:MOJO_TOKEN }\nsink bot { type = pipe  command = ["bot.sh"]  stop_grace = 5s }\ninclude "rules.d/*.rules"\n'
        seed "$dir" webhook 'sink h { type = webhook  url = "https://x/h"  secret = file:secret.key  retry = [0s, 5s, 5m]  headers = ["X-A: b"] }\n'
        seed "$dir" nested 'route r { to = bot  sender = [["a", ["b"]], env:X, command:["x"]] }\n' ;;
    regex)
        seed "$dir" anchors 'im\n^(help|urgent):\\s+\\w+$\nUrgent: fix it'
        seed "$dir" classes '\n[^\\d\\s,]{2,5}?\\b.*\nab, cd 12'
        seed "$dir" nested 'x\n^(a+)+$ # comment\naaaaaaaaaaaaaaaaaaaaaaaaaaaa!'
        seed "$dir" escapes 's\n\\x41\\u{e9}(?i:caf)(?:e|\\u00e9)\nACafé' ;;
    mail)
        # The reply corpus of the unit tests, plus a few edge shapes.
        cp Tests/MailTests/Fixtures/*.eml "$dir/"
        seed "$dir" nested 'From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: multipart/alternative; boundary=y\n\n--y\nContent-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n<p>a=92b</p><blockquote>q</blockquote>\n--y--\n--x\nContent-Disposition: attachment; filename*=utf-8%%27%%27a%%C3%%A9.txt\n\nx\n--x--\n'
        seed "$dir" words 'Subject: =?utf-8?q?a=C3=A9_b?= =?iso-8859-1?b?6Q==?=\nFrom: "x, y" <a@b>\n\nOn Mon, Bob wrote:\n> q\n-- \nsig\n' ;;
    esac
}

failed=0
for name in $TARGETS; do
    log="$OUT/$name.log"
    if ! build "$name" > "$log" 2>&1; then
        echo "fuzz $name: 0 runs, BUILD FAILED (see $log)"
        failed=1
        continue
    fi
    seed_corpus "$name"
    status=0
    "$OUT/$name-fuzz" -runs="$RUNS" -rss_limit_mb=512 -max_len=4096 -artifact_prefix="$OUT/$name-" \
        "$OUT/$name-corpus" >> "$log" 2>&1 || status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
        seconds=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
        cov=$(sed -n 's/^#[0-9]*.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p' "$log" | tail -n 1)
        echo "fuzz $name: $runs runs, ok ($cov, ${seconds}s)"
    else
        # No "Done" line: count the runs from the last status line, name the reproducer.
        runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "fuzz $name: ${runs:-0} runs, CRASHED (exit $status; reproducer ${artifact:-none}; log $log)"
        failed=1
    fi
done
exit "$failed"
