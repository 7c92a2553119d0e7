#!/usr/bin/env bash
# EventHub benchmark suite (issue 8). Builds the hub and the bench in Release, starts a private
# PostgreSQL in a temp dir, runs the hub as a separate process and drives it from the bench process
# on loopback. Writes bench/results/<date>.md and .json (<date>-quick.* with --quick).
#
#   bash bench/run.sh            # the full suite (about 25 minutes on 2 cores)
#   bash bench/run.sh --quick    # a small subset (about 3 minutes)
#
# Other options: see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
dotnet build -c Release --nologo -v q "$root/Hub/EventHub.Hub.csproj" >/dev/null
dotnet build -c Release --nologo -v q "$root/bench/EventHub.Bench/EventHub.Bench.csproj" >/dev/null
exec dotnet "$root/bench/EventHub.Bench/bin/Release/net10.0/EventHub.Bench.dll" --repo "$root" "$@"
