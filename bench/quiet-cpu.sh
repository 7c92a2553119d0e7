#!/usr/bin/env bash
# What a quiet log costs in CPU, REF's hub against this tree's, in one run: one hub at a time on a
# private cluster (bench/lab.sh), one SSE client streaming, a writer committing RATE events a
# second (one psql session, single-row autocommit INSERTs of the demo's kind); for SECONDS the CPU
# of the hub process and of the whole PostgreSQL cluster (every process of it: the ticker's
# session, the tail's, the writer's, the background processes), per second of wall time. Builds
# alternate, ROUNDS times per rate. (A rate of 0: no writer, an idle log.)
#
#   bash bench/quiet-cpu.sh REF [RATES] [SECONDS] [ROUNDS]      # RATES: comma-separated, default 0,1.4,10,100
#
# Writes nothing; paste the output into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ref=$1; rates=${2:-0,1.4,10,100}; seconds=${3:-30}; rounds=${4:-2}
. bench/lab.sh
lab_init "$ref"
$psql -c "INSERT INTO projects (id, path) VALUES ('quiet', '/quiet')" 2>/dev/null || true

ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' "$@" 2>/dev/null; }
cluster_ticks() { # every process of the lab's cluster: the postmaster and its children
  local pm; pm=$(head -1 "$work/data/postmaster.pid")
  ticks /proc/"$pm"/stat $(for c in $(pgrep -P "$pm"); do echo /proc/"$c"/stat; done)
}
hz=$(getconf CLK_TCK)

echo "quiet CPU: one SSE client, a writer at RATE events/s, ${seconds} s per cell; old = $commit, new = this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"
for rate in ${rates//,/ }; do
  for round in $(seq 1 "$rounds"); do
    for build in old new; do
      start_hub "$work/$build" "$build"
      hub=$(cat "$work/hub.pid")
      curl -sN "http://127.0.0.1:$hub_port/api/v1/events?project=quiet" > /dev/null &
      sse=$!
      writer=""
      if [ "$rate" != 0 ]; then
        pause=$(python3 -c "print(1 / $rate)")
        ( while true; do echo "INSERT INTO change_log (project_id, event_type, payload) VALUES ('quiet', 'session_updated', '{\"id\":\"quiet-1\",\"activity\":\"active\"}');"; sleep "$pause"; done ) | $psql > /dev/null &
        writer=$!
      fi
      sleep 5 # past the start-up's own work (migrations, the first reads, the warm-up)
      h0=$(ticks /proc/"$hub"/stat); p0=$(cluster_ticks); t0=$(date +%s.%N)
      sleep "$seconds"
      h1=$(ticks /proc/"$hub"/stat); p1=$(cluster_ticks); t1=$(date +%s.%N)
      [ -n "$writer" ] && { pkill -P "$writer" 2>/dev/null || true; kill "$writer" 2>/dev/null || true; }
      kill "$sse" 2>/dev/null || true
      stop_hub
      python3 -c "
wall = $t1 - $t0
print(f'rate $rate round $round $build: hub {($h1 - $h0) / $hz / wall * 100:.1f} % of a core, PostgreSQL {($p1 - $p0) / $hz / wall * 100:.1f} %')"
    done
  done
done
