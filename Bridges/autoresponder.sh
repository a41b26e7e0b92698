#!/bin/sh
# autoresponder: answers every message it is given.
#
# Wire it with a pipe sink in text format: each input line is "{sender.name}: {content}"
# (the route's template), and each line printed is sent back to the conversation the child is
# bound to (per = conversation). See Bridges/README.md.
#
# Message content arrives on stdin only: it is never put on a command line or evaluated.
set -u
greeting=${AUTORESPONDER_GREETING:-"Thanks"}
while IFS= read -r line; do
  name=${line%%: *}
  text=${line#*: }
  printf '%s, %s! You said: %s\n' "$greeting" "$name" "$text"
done
