#!/usr/bin/env bash
# What a slow `for await` loop costs the TypeScript client in memory, REF's client against this
# tree's, in one run: one hub (this tree's) on a private cluster whose log holds EVENTS events of
# one project (~300-byte payloads); bench/ts-slow-consumer.mjs reads them from the start with each
# client build over each transport, stalling STALL seconds after the first event. Builds
# alternate, ROUNDS times. (REF before 4575385: the loop's buffer had no bound.)
#
#   bash bench/ts-slow-consumer.sh REF [EVENTS] [STALL] [ROUNDS] [TRANSPORTS]
#
# TRANSPORTS: comma-separated, of sse, signalr, msgpack (default all three). Needs `npm ci` at the
# repository's root. Writes nothing; paste the output into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ref=$1; events=${2:-200000}; stall=${3:-5}; rounds=${4:-2}; transports=${5:-sse,signalr,msgpack}
. bench/lab.sh
lab_init "$ref"
ln -s "$root/node_modules" "$work/src/node_modules"
ln -s "$root/node_modules" "$work/node_modules" # for the new build in $work/new-client
(cd "$work/src/clients/typescript" && npx tsc -p tsconfig.build.json)
(cd "$root/clients/typescript" && npx tsc -p tsconfig.build.json --outDir "$work/new-client")
start_hub "$work/new" hub
load_project slow "$events"
echo "TypeScript slow loop: $events events, a ${stall} s stall after the first; old = $commit, new = this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"
for transport in ${transports//,/ }; do
  for round in $(seq 1 "$rounds"); do
    for build in old new; do
      dist=$([ $build = old ] && echo "$work/src/clients/typescript/dist/index.js" || echo "$work/new-client/index.js")
      echo "$transport round $round $build: $(node --expose-gc bench/ts-slow-consumer.mjs "$dist" "http://127.0.0.1:$hub_port" slow "$events" "$stall" "$transport" 2>&1 | tail -1)"
    done
  done
done
