#!/bin/sh
# command-bot: answers /help, /time, /echo TEXT and /whoami; ignores everything else.
#
# Text format, per conversation: each input line is the message content (template "{content}");
# each printed line goes back to the conversation. See Bridges/README.md.
set -u
while IFS= read -r line; do
  case "$line" in
    /help|/help\ *)  echo "Commands: /help, /time, /echo TEXT, /whoami" ;;
    /time|/time\ *)  date -u '+It is %Y-%m-%d %H:%M:%S UTC' ;;
    /echo\ *)        printf '%s\n' "${line#/echo }" ;;
    /whoami)         printf 'I am the command bot of sink %s in conversation %s\n' "${MOJO_BRIDGE_SINK:-?}" "${MOJO_CONVERSATION:-?}" ;;
    /*)              printf 'Unknown command %s: try /help\n' "${line%% *}" ;;
    *)               : ;;
  esac
done
