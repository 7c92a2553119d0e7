#!/usr/bin/env bash
# What the recent-events window costs in memory on a log of large payloads, for two builds of the
# hub in one run (docs/design.md, "Recent-events window"). A private PostgreSQL in a temp dir gets
# ROWS events of ~BYTES-byte payloads (100 per transaction); each build then starts on it (the
# window's start-up load), serves one SSE client every event from the start (timed), and is measured:
# resident memory, and the GC heap after a full collection (dotnet-gcdump, installed from NuGet
# into the temp dir). Builds alternate, ROUNDS times. Then this tree's hub, with its catch-up pages
# aimed at 4 MiB of payload (the default) and at 1 GB (pages of 1,000 rows, as before), serves 8
# SSE clients every event from the start at once (the window holds one event, so they read the
# log): the time until the last has them all and the peak resident memory, alternating, ROUNDS times.
#
#   bash bench/window-memory.sh REF [ROWS] [BYTES] [ROUNDS]   # REF's hub against this tree's
#
# Writes nothing; paste the output into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ref=$1; rows=${2:-20000}; bytes=${3:-10000}; rounds=${4:-2}
. bench/lab.sh
lab_init "$ref"
dotnet tool install --tool-path "$work/tools" dotnet-gcdump --version 10.0.750501 >/dev/null


# The schema comes from the first start; the events are written while no hub runs and ticked by the next.
start_hub "$work/new" migrate && stop_hub
repeat=$(( (bytes - 20) / 32 ))
for _ in $(seq 1 $((rows / 100))); do
  echo "INSERT INTO change_log (project_id, event_type, payload) SELECT 'ao', 'doc_updated', jsonb_build_object('id', g, 'body', repeat(md5(g::text), $repeat)) FROM generate_series(1, 100) g;"
done | $psql
echo "log: $($psql -Atc "SELECT count(*) || ' events, payloads of ' || avg(octet_length(payload::text))::int || ' bytes' FROM change_log")"
echo "old = $commit, new = this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"

for round in $(seq 1 "$rounds"); do
  for build in old new; do
    begin=$(date +%s.%N)
    start_hub "$work/$build" "$build-$round"
    ready=$(python3 -c "import time; print(f'{time.time() - $begin:.1f}')")
    pid=$(cat "$work/hub.pid")
    begin=$(date +%s.%N)
    # The stream does not end: curl is stopped once grep has counted every event (else it would
    # notice only at the next keep-alive, up to 15 s later).
    served=$( (timeout 120 curl -sN "http://127.0.0.1:$hub_port/api/v1/events?after=0" & echo $! > "$work/curl.pid"; wait) \
      | { grep -m "$rows" -c '^id:' || true; kill "$(cat "$work/curl.pid")" 2>/dev/null || true; })
    took=$(python3 -c "import time; print(f'{time.time() - $begin:.1f}')")
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
    "$work/tools/dotnet-gcdump" collect -p "$pid" -o "$work/$build-$round.gcdump" >/dev/null 2>&1
    heap=$("$work/tools/dotnet-gcdump" report "$work/$build-$round.gcdump" 2>/dev/null | awk '/GC Heap bytes/ {gsub(",", "", $1); print int($1/1048576)}')
    stop_hub
    echo "round $round $build: ready ${ready} s, served $served events in ${took} s, resident ${rss} MiB, GC heap ${heap} MiB after a full collection"
  done
done

cat > "$work/catchups.py" <<'PY'
import http.client, sys, threading, time
port, rows, clients, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
done = []
def client():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", "/api/v1/events?after=0")
    r, seen = c.getresponse(), 0
    while seen < rows:
        line = r.fp.readline()
        if not line: break
        seen += line.startswith(b"data:") # an event's one data line
    done.append((seen, time.time() - start))
    c.close()
def resident():
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS"))
start, peak = time.time(), 0
threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads: t.start()
while any(t.is_alive() for t in threads):
    peak = max(peak, resident()); time.sleep(0.05)
print(f"{clients} clients got {min(d[0] for d in done)}-{max(d[0] for d in done)} events, the last in {max(d[1] for d in done):.1f} s, peak resident {peak} MiB")
PY
for round in $(seq 1 "$rounds"); do
  for aim in 4194304 1000000000; do
    start_hub "$work/new" "pages-$aim-$round" Stream__RecentEventsWindowSize=1 CatchUpWarmUp__Events=0 Stream__CatchUpPagePayloadBytes=$aim
    echo "round $round pages aimed at $aim bytes: $(python3 "$work/catchups.py" "$hub_port" "$rows" 8 "$(cat "$work/hub.pid")")"
    stop_hub
  done
done
