# The lab of bench/window-memory.sh and bench/burst-memory.sh, sourced by them: REF's hub and this
# tree's built in Release, a private PostgreSQL in a temp dir with a database "bench", and a hub
# started and stopped on it. After `lab_init REF`: $work (removed on exit), $commit, $psql,
# $connection, $hub_port; hubs in $work/old (REF) and $work/new (this tree). load_project fills a
# project's log for the slow-consumer scripts.
pg=/usr/lib/postgresql/15/bin

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

lab_init() { # REF
  work=$(mktemp -d /tmp/eventhub-bench-XXXXXX)
  port=$(free_port)
  hub_port=$(free_port)
  trap lab_cleanup EXIT
  commit=$(git rev-parse --short "$1^{commit}")
  git worktree add --detach "$work/src" "$commit" >/dev/null 2>&1
  dotnet build -c Release --nologo -v q "$work/src/Hub/EventHub.Hub.csproj" -o "$work/old" >/dev/null
  dotnet build -c Release --nologo -v q Hub/EventHub.Hub.csproj -o "$work/new" >/dev/null
  chown postgres "$work"
  runuser -u postgres -- "$pg/initdb" -A trust -D "$work/data" >/dev/null
  runuser -u postgres -- "$pg/pg_ctl" -D "$work/data" -o "-p $port -k $work" -l "$work/pg.log" -w start >/dev/null
  psql="$pg/psql -h 127.0.0.1 -p $port -U postgres -X -q -d bench"
  $pg/psql -h 127.0.0.1 -p "$port" -U postgres -X -q -c "CREATE DATABASE bench"
  connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=bench"
}

lab_cleanup() {
  [ -f "$work/hub.pid" ] && kill "$(cat "$work/hub.pid")" 2>/dev/null || true
  runuser -u postgres -- "$pg/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  git -C "$root" worktree remove --force "$work/src" 2>/dev/null || true
  rm -rf "$work"
}

start_hub() { # DIR NAME [SETTING=VALUE...]: starts the hub, waits for /readyz
  local dir=$1 name=$2; shift 2
  env ConnectionStrings__EventHub="$connection" Urls="http://127.0.0.1:$hub_port" "$@" \
    dotnet "$dir/EventHub.Hub.dll" > "$work/$name.log" 2>&1 &
  echo $! > "$work/hub.pid"
  for _ in $(seq 1 240); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hub_port/readyz")" = 200 ] && return 0
    sleep 0.5
  done
  echo "$name: not ready" >&2; return 1
}

load_project() { # PROJECT EVENTS: the project and EVENTS pr_updated events of ~300-byte payloads, one statement
  $psql -c "INSERT INTO projects (id, path) VALUES ('$1', '/$1')" \
    -c "INSERT INTO change_log (project_id, event_type, payload) SELECT '$1', 'pr_updated', jsonb_build_object('n', g, 'pad', repeat('x', 250)) FROM generate_series(1, $2) g"
}

stop_hub() { kill -TERM "$(cat "$work/hub.pid")"; while kill -0 "$(cat "$work/hub.pid")" 2>/dev/null; do sleep 0.2; done; rm -f "$work/hub.pid"; }
