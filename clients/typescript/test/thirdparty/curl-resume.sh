#!/usr/bin/env bash
# A shell SSE reader: `curl -N` in a loop that resumes with the last `id:` it printed.
#   curl-resume.sh URL STATE_DIR [MAX_ATTEMPTS]
# The first request asks for URL&after=0; every later one sends `Last-Event-ID: <last id printed>`.
# Only complete frames (ended by a blank line) are printed, so a frame cut off by a dropped
# connection is neither printed nor resumed from. Between connections it waits 0.2 s (its
# reconnection delay, like an EventSource's retry), at most MAX_ATTEMPTS connections in all.
set -u
url=$1
state=$2
max=${3:-300}
: > "$state/last-id"

for attempt in $(seq 1 "$max"); do
  last=$(cat "$state/last-id")
  if [ -n "$last" ]; then
    curl -sSN --connect-timeout 2 --max-time 120 -H "Last-Event-ID: $last" "$url"
  else
    curl -sSN --connect-timeout 2 --max-time 120 "$url&after=0"
  fi | {
    frame="" id=""
    while IFS= read -r line; do
      if [ -n "$line" ]; then
        frame+="$line"$'\n'
        case "$line" in "id: "*) id=${line#id: } ;; esac
        continue
      fi
      printf '%s\n' "$frame"
      if [ -n "$id" ]; then printf '%s' "$id" > "$state/last-id"; fi
      frame="" id=""
    done
  }
  printf ': curl exited (attempt %s)\n\n' "$attempt"
  sleep 0.2
done
