#!/bin/sh
# Builds the WebSocket frame parser + connection state fuzzer with libFuzzer and AddressSanitizer,
# then runs it. Usage: Tests/Fuzz/run-websocket.sh [runs] (default 1000000). Run from anywhere.
set -eu
cd "$(dirname "$0")/../.."
RUNS="${1:-1000000}"
mkdir -p .build-fuzz/ws-corpus
# lld avoids gold's warnings about the sanitizer runtime's local symbols.
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name WebSocketFuzz -use-ld=lld \
    Sources/WebSocket/*.swift Tests/Fuzz/WebSocketFuzz/main.swift -o .build-fuzz/ws-fuzz
exec .build-fuzz/ws-fuzz -runs="$RUNS" -rss_limit_mb=512 -max_len=4096 .build-fuzz/ws-corpus
