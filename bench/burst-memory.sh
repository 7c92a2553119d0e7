#!/usr/bin/env bash
# What a burst of large payloads costs the hub in memory, for two builds in one run: one
# transaction commits ROWS events of ~BYTES-byte payloads (one tick) while one SSE client streams
# from now. Measured per build: the peak resident memory of the hub from just before the commit
# until the client has every event, that time, and the resident memory then. The log is emptied
# before each start, so every hub starts alike. Builds alternate, ROUNDS times. (REF before
# 8f23420: the ticker hands a tick of up to 1,000 rows over whole, and the tail reads 1,000 rows a
# page whatever their size.)
#
# --stalled-signalr: a SignalR client (JSON protocol over SignalR's server-sent-events transport)
# opens a stream of the same project first and then reads nothing, for the whole measure. (REF
# before f3c7165: a SignalR stream's queue for SignalR's sender holds 128 events whatever their size.)
#
#   bash bench/burst-memory.sh [--stalled-signalr] REF [ROWS] [BYTES] [ROUNDS]   # REF's hub against this tree's
#
# Writes nothing; paste the output into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stalled=0
if [ "${1:-}" = --stalled-signalr ]; then stalled=1; shift; fi
ref=$1; rows=${2:-1000}; bytes=${3:-1000000}; rounds=${4:-2}
. bench/lab.sh
lab_init "$ref"

cat > "$work/burst.py" <<'PY'
import http.client, json, subprocess, sys, threading, time
port, rows, pid, stalled, insert = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", sys.argv[5:]
def resident():
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS"))
def post(path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
    r = c.getresponse(); data = r.read(); c.close()
    if r.status >= 300: raise SystemExit(f"POST {path}: {r.status} {data!r}")
    return data
if stalled: # negotiate, open the SSE transport, start a stream and never read the transport again
    token = json.loads(post("/hubs/events/negotiate?negotiateVersion=1", b""))["connectionToken"]
    signalr = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    signalr.request("GET", f"/hubs/events?id={token}", headers={"Accept": "text/event-stream"})
    signalr.getresponse()
    post(f"/hubs/events?id={token}", b'{"protocol":"json","version":1}\x1e')
    post(f"/hubs/events?id={token}", b'{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":["ao"]}]}\x1e')
c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
c.request("GET", "/api/v1/events?project=ao")
r = c.getresponse()
seen, done = [0], threading.Event()
def read():
    while seen[0] < rows:
        line = r.fp.readline()
        if not line: break
        seen[0] += line.startswith(b"data:") # an event's one data line (a stream from now begins with an id alone)
    done.set()
threading.Thread(target=read, daemon=True).start()
if stalled: time.sleep(1) # the SignalR stream open (SignalR sends nothing before its first item)
before = peak = resident()
sampler_stop = threading.Event()
def sample():
    global peak
    while not sampler_stop.is_set():
        peak = max(peak, resident()); time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
subprocess.run(insert, check=True)
committed = time.time()
done.wait(300)
took = time.time() - committed
sampler_stop.set(); time.sleep(0.05)
print(f"client got {seen[0]} events {took:.1f} s after the commit; resident {before} MiB before, peak {peak} MiB, {resident()} MiB after")
PY

start_hub "$work/new" migrate && stop_hub
repeat=$(( (bytes - 20) / 32 ))
insert="INSERT INTO change_log (project_id, event_type, payload) SELECT 'ao', 'doc_updated', jsonb_build_object('id', g, 'body', repeat(md5(g::text), $repeat)) FROM generate_series(1, $rows) g"
echo "burst$([ $stalled = 1 ] && echo ' beside a stalled SignalR client'): $rows events of ~$bytes-byte payloads in one transaction; old = $commit, new = this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"
for round in $(seq 1 "$rounds"); do
  for build in old new; do
    $psql -c "DELETE FROM change_log" -c "VACUUM change_log"
    start_hub "$work/$build" "$build-$round"
    echo "round $round $build: $(python3 "$work/burst.py" "$hub_port" "$rows" "$(cat "$work/hub.pid")" "$stalled" $psql -c "$insert")"
    stop_hub
  done
done
