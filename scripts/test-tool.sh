#!/usr/bin/env bash
# Packaging smoke test: `dotnet pack` of the solution, then `dotnet tool install` of the
# `eventhub` tool from the packed output into a temporary tool path, then the installed tool
# runs: `--help` works, and an unreachable hub gives one line and exit code 1.
# Prints "<passed> <failed>" into the file named by $1, and the failed checks' names into
# tool-failures.txt beside it.
set -uo pipefail
cd "$(dirname "$0")/.."
summary="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
failures="$(dirname "$summary")/tool-failures.txt"; : >"$failures" # named again in the run's last lines
check() { # name, command...
  local name="$1"; shift
  if "$@"; then echo "  ok   $name"; passed=$((passed + 1)); else echo "  FAIL $name"; echo "packaging: $name" >>"$failures"; failed=$((failed + 1)); fi
}

# scripts/test.sh has just built the solution (Debug) for its tests: it sets EVENTHUB_PACK_BUILT=1
# and the packages are made from that build, instead of a second, Release, build of everything.
if [ "${EVENTHUB_PACK_BUILT:-0}" = 1 ]; then pack_args=(-c Debug --no-build); else pack_args=(-c Release); fi
pack() { dotnet pack EventHub.sln "${pack_args[@]}" -o "$work/packages" --nologo -v q >"$work/pack.log" 2>&1 \
  && ls "$work/packages"/EventHub.Client.*.nupkg "$work/packages"/EventHub.Cli.*.nupkg >/dev/null; }
install() { dotnet tool install --tool-path "$work/tools" --add-source "$work/packages" EventHub.Cli >"$work/install.log" 2>&1; }
help_works() { timeout 60 "$work/tools/eventhub" tail --help >"$work/help.txt" 2>&1 && grep -q -- "--project" "$work/help.txt"; }
unreachable() {
  # Bounded: a tool that kept retrying would fail here (124), not hang the run.
  timeout 60 "$work/tools/eventhub" tail --url http://127.0.0.1:9 --after 0 >"$work/out.txt" 2>"$work/err.txt"
  local code=$?
  [ "$code" = 1 ] && [ "$(wc -l <"$work/err.txt")" = 1 ] && ! grep -q "   at " "$work/err.txt"
}

check "dotnet pack produces the client and tool packages" pack || cat "$work/pack.log"
check "dotnet tool install from the packed output" install || cat "$work/install.log"
check "the installed tool answers --help" help_works
check "an unreachable hub gives one line and exit code 1" unreachable || cat "$work/err.txt"
echo "$passed $failed" >"$summary"
[ "$failed" = 0 ]
