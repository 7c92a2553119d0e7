#!/usr/bin/env bash
# What a slow application costs the .NET client in memory, REF's client against this tree's, in
# one run: one hub (this tree's) on a private cluster whose log holds EVENTS events of one project
# (~300-byte payloads); bench/client-slow-consumer.cs reads them from the start with each client
# build, stalling STALL seconds after the first event. Builds alternate, ROUNDS times. (REF before
# 777f6b1: SignalR's client takes in whatever the hub sends, and the client held it all.)
#
#   bash bench/client-slow-consumer.sh REF [EVENTS] [STALL] [ROUNDS]
#
# Writes nothing; paste the output into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ref=$1; events=${2:-200000}; stall=${3:-5}; rounds=${4:-2}
. bench/lab.sh
lab_init "$ref"
cp bench/client-slow-consumer.cs "$work/src/bench/"
start_hub "$work/new" hub
load_project slow "$events"
echo "slow consumer: $events events, a ${stall} s stall after the first; old = $commit, new = this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"
for round in $(seq 1 "$rounds"); do
  for build in old new; do
    tree=$([ $build = old ] && echo "$work/src" || echo "$root")
    echo "round $round $build: $(dotnet run "$tree/bench/client-slow-consumer.cs" -- "http://127.0.0.1:$hub_port" slow "$events" "$stall" 2>&1 | tail -1)"
  done
done
