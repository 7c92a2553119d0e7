#!/usr/bin/env bash
# EventHub benchmark suite (issue 8). Builds the hub and the bench in Release, starts a private
# PostgreSQL in a temp dir, runs the hub as a separate process and drives it from the bench process
# on loopback. Writes bench/results/<date>.md and .json (<date>-quick.* with --quick).
#
#   bash bench/run.sh            # the full suite (about 25 minutes on 2 cores)
#   bash bench/run.sh --quick    # a small subset (about 3 minutes)
#   bash bench/run.sh --compare-ref 5ffd595 --compare-label old --hub-label new
#                                # issue 13's figures for two builds in one run (about 15-25 minutes):
#                                # builds REF's hub in a temporary worktree, measures it beside this one
#
# Other options: see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --compare-ref REF: build REF's hub (git worktree in a temp dir, removed on exit) and pass it as --compare-dll.
args=()
compare_ref=""
while [ $# -gt 0 ]; do
  case "$1" in
    --compare-ref) compare_ref="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
command_line="bash bench/run.sh${compare_ref:+ --compare-ref $compare_ref}${args[*]:+ ${args[*]}}"

dotnet build -c Release --nologo -v q "$root/Hub/EventHub.Hub.csproj" >/dev/null
dotnet build -c Release --nologo -v q "$root/bench/EventHub.Bench/EventHub.Bench.csproj" >/dev/null

if [ -n "$compare_ref" ]; then
  commit=$(git -C "$root" rev-parse --short "$compare_ref^{commit}")
  tree=$(mktemp -d /tmp/eventhub-compare-XXXXXX)
  cleanup() { git -C "$root" worktree remove --force "$tree/src" 2>/dev/null || true; rm -rf "$tree"; }
  trap cleanup EXIT
  git -C "$root" worktree add --detach "$tree/src" "$commit" >/dev/null
  echo "building $compare_ref ($commit) into $tree/bin"
  dotnet build -c Release --nologo -v q "$tree/src/Hub/EventHub.Hub.csproj" -o "$tree/bin" >/dev/null
  args+=(--compare-dll "$tree/bin/EventHub.Hub.dll" --compare-commit "$commit")
fi

EVENTHUB_BENCH_COMMAND="$command_line" \
  dotnet "$root/bench/EventHub.Bench/bin/Release/net10.0/EventHub.Bench.dll" --repo "$root" ${args[@]+"${args[@]}"}
