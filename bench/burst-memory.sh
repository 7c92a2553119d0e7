#!/usr/bin/env bash
# What a burst of large payloads costs the hub in memory, for two builds in one run: one
# transaction commits ROWS events of ~BYTES-byte payloads (one tick) while one SSE client streams
# from now. Measured per build: the peak resident memory of the hub from just before the commit
# until the client has every event, and that time. The log is emptied before each start, so every
# hub starts alike. Builds alternate, ROUNDS times. (REF before 8f23420: the ticker hands a tick
# of up to 1,000 rows over whole, and the tail reads 1,000 rows a page whatever their size.)
#
#   bash bench/burst-memory.sh REF [ROWS] [BYTES] [ROUNDS]   # REF's hub against this tree's
#
# Writes nothing; paste the output into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ref=$1; rows=${2:-1000}; bytes=${3:-1000000}; rounds=${4:-2}
pg=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/eventhub-bench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hub_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  [ -f "$work/hub.pid" ] && kill "$(cat "$work/hub.pid")" 2>/dev/null || true
  runuser -u postgres -- "$pg/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  git -C "$root" worktree remove --force "$work/src" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

commit=$(git rev-parse --short "$ref^{commit}")
git worktree add --detach "$work/src" "$commit" >/dev/null 2>&1
dotnet build -c Release --nologo -v q "$work/src/Hub/EventHub.Hub.csproj" -o "$work/old" >/dev/null
dotnet build -c Release --nologo -v q Hub/EventHub.Hub.csproj -o "$work/new" >/dev/null

chown postgres "$work"
runuser -u postgres -- "$pg/initdb" -A trust -D "$work/data" >/dev/null
runuser -u postgres -- "$pg/pg_ctl" -D "$work/data" -o "-p $port -k $work" -l "$work/pg.log" -w start >/dev/null
psql="$pg/psql -h 127.0.0.1 -p $port -U postgres -X -q -d bench"
$pg/psql -h 127.0.0.1 -p $port -U postgres -X -q -c "CREATE DATABASE bench"
connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench"

start_hub() { # DIR NAME: starts the hub, waits for /readyz
  local dir=$1 name=$2
  env ConnectionStrings__EventHub="$connection" Urls="http://127.0.0.1:$hub_port" \
    dotnet "$dir/EventHub.Hub.dll" > "$work/$name.log" 2>&1 &
  echo $! > "$work/hub.pid"
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hub_port/readyz")" = 200 ] && return 0
    sleep 0.5
  done
  echo "$name: not ready" >&2; return 1
}
stop_hub() { kill -TERM "$(cat "$work/hub.pid")"; while kill -0 "$(cat "$work/hub.pid")" 2>/dev/null; do sleep 0.2; done; rm -f "$work/hub.pid"; }

cat > "$work/burst.py" <<'PY'
import http.client, subprocess, sys, threading, time
port, rows, pid, insert = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
def resident():
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS"))
c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
c.request("GET", "/api/v1/events?project=ao")
r = c.getresponse()
seen, done = [0], threading.Event()
def read():
    while seen[0] < rows:
        line = r.fp.readline()
        if not line: break
        seen[0] += line.startswith(b"id:")
    done.set()
threading.Thread(target=read, daemon=True).start()
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
print(f"client got {seen[0]} events {took:.1f} s after the commit; resident {before} MiB before, peak {peak} MiB")
PY

start_hub "$work/new" migrate && stop_hub
repeat=$(( (bytes - 20) / 32 ))
insert="INSERT INTO change_log (project_id, event_type, payload) SELECT 'ao', 'doc_updated', jsonb_build_object('id', g, 'body', repeat(md5(g::text), $repeat)) FROM generate_series(1, $rows) g"
echo "burst: $rows events of ~$bytes-byte payloads in one transaction; old = $commit, new = this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"
for round in $(seq 1 "$rounds"); do
  for build in old new; do
    $psql -c "DELETE FROM change_log" -c "VACUUM change_log"
    start_hub "$work/$build" "$build-$round"
    echo "round $round $build: $(python3 "$work/burst.py" "$hub_port" "$rows" "$(cat "$work/hub.pid")" $psql -c "$insert")"
    stop_hub
  done
done
