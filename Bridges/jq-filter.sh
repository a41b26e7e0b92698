#!/bin/sh
# jq-filter: forwards only the messages that match a pattern into another conversation.
#
# JSON format, per route. Each matching `message:new` becomes a `message:send` command to
# $ALERTS_CONVERSATION with "[alert] Name: content". PATTERN is a jq regular expression
# (default "urgent|down|outage", case-insensitive). Needs jq. See Bridges/README.md.
set -u
: "${ALERTS_CONVERSATION:?set ALERTS_CONVERSATION to the conversation that receives alerts}"
exec jq -c --unbuffered --arg pattern "${PATTERN:-urgent|down|outage}" --arg target "$ALERTS_CONVERSATION" '
  select(.type == "message:new")
  | .data.message as $m
  | select($m.conversationId != $target)
  | select($m.content | test($pattern; "i"))
  | {type: "message:send",
     tenant: .tenant,
     data: {conversationId: $target,
            content: ("[alert] " + ($m.sender.name // $m.senderId) + ": " + $m.content)}}'
