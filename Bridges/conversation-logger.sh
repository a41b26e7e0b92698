#!/bin/sh
# conversation-logger: appends every event it is given to one file per conversation.
#
# JSON format (the shared vocabulary, one event per line), one child per conversation: the
# daemon sets MOJO_CONVERSATION and MOJO_TENANT. Prints nothing, so it never sends anything.
# The directory is LOG_DIR (default ./mojo-logs). See Bridges/README.md.
set -u
dir=${LOG_DIR:-./mojo-logs}/${MOJO_TENANT:-unknown}
mkdir -p "$dir"
# Conversation ids are uuids; anything else is reduced to a safe file name.
name=$(printf '%s' "${MOJO_CONVERSATION:-none}" | tr -c 'A-Za-z0-9_.-' '_')
file="$dir/$name.jsonl"
while IFS= read -r line; do
  printf '%s\n' "$line" >> "$file"
done
