#!/usr/bin/env bash
# Runs every test suite of EventHub and ends with one line: "N passed, N failed".
# It installs what a fresh machine lacks (PostgreSQL server binaries; later Node packages and
# Chromium), so it is the single test command of the README and of CI (.ci/run).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/TestResults"
rm -rf "$results"; mkdir -p "$results"

started=$SECONDS
log() { printf '\n== %s (at %d s)\n' "$*" "$((SECONDS - started))"; }

# PostgreSQL server binaries (initdb, pg_ctl): the tests run a private cluster from them.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  log "Installing PostgreSQL server binaries"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
fi
# Debian's package starts a cluster of its own; the tests do not need it.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --home /var/lib/postgresql postgres; fi

passed=0; failed=0; status=0

# What the TypeScript suites need installed (Node packages, Chromium) is installed while the .NET
# tests run: it waits on the network and the disk, not on the cores.
prepare_pid=
if [ -f "$root/scripts/test-node.sh" ]; then
  bash "$root/scripts/test-node.sh" --prepare >"$results/node-prepare.log" 2>&1 &
  prepare_pid=$!
fi

add_trx_counts() { # file
  local counters p f
  counters=$(grep -o '<Counters [^>]*>' "$1" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

log ".NET tests (xunit, real PostgreSQL, real Kestrel)"
dotnet_status=0
# The test hubs' logs, each line labelled with its test (Hub.Tests' HubTestLog); a failed test's are printed below.
test_log="$results/hub-tests.log"
export EVENTHUB_TEST_LOG="$test_log"
# A test that runs 10 minutes has hung (the longest take about 2): VSTest then stops its test host
# and names the test, so a hang fails the run in minutes instead of using up CI's time without a
# summary line. The two test projects run one after the other: run at once (tried in stop 69) they
# took as long in all on the 2 cores, and loaded each other's tests.
dotnet test "$root/EventHub.sln" --nologo -v q --logger "trx" --results-directory "$results/dotnet" \
  --blame-hang-timeout 10m --blame-hang-dump-type none \
  --logger "console;verbosity=minimal" || dotnet_status=1
failed_before=$failed
trx_count=0
for trx in "$results"/dotnet/*.trx; do
  [ -e "$trx" ] || continue
  add_trx_counts "$trx"; trx_count=$((trx_count + 1))
done
# A test project that does not build (or whose test host dies) writes no results: its tests are
# not "0 failed". Each such project counts as one failure, and so does a failed dotnet test that
# counted no failed test.
test_projects=$(dotnet sln "$root/EventHub.sln" list | grep -c '\.Tests\.csproj$')
if [ "$trx_count" -lt "$test_projects" ]; then
  echo "$((test_projects - trx_count)) of $test_projects .NET test projects wrote no results (a build error or a crashed test host; see above)"
  failed=$((failed + test_projects - trx_count))
fi
if [ "$dotnet_status" != 0 ] && [ "$failed" = "$failed_before" ]; then
  echo "dotnet test failed, and no failed test was counted (a build error, or a test host that crashed or hung: see above)"
  failed=$((failed + 1))
fi
[ "$dotnet_status" != 0 ] && status=1
if [ "$dotnet_status" != 0 ] && [ -s "$test_log" ]; then
  # What the hub logged during each failed test (at most five tests, 80 lines each: the first 30
  # and the last 50, where a stop or a timeout shows): CI keeps only this output, and the hub's
  # side of a failure is often the only clue.
  grep -ho '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$results"/dotnet/*.trx 2>/dev/null \
    | sed -n 's/.* testName="\([^"(]*\).*/\1/p' | sort -u | head -5 | while read -r name; do
      log "The hub's log during $name"
      awk -v label="[$name]" 'index($0, label) { shown = 1; print; next } /^    / && shown { print; next } { shown = 0 }' \
        "$test_log" | awk '{ line[NR] = $0 } END { for (i = 1; i <= NR; i++) if (NR <= 80 || i <= 30 || i > NR - 50) print line[i]; else if (i == 31) print "    ... (" NR - 80 " lines)" }' | cut -c1-400
    done
fi

log "Packaging: dotnet pack and dotnet tool install of the eventhub tool"
tool_out="$results/tool-summary.txt"
EVENTHUB_PACK_BUILT=$([ "$trx_count" -gt 0 ] && echo 1 || echo 0) bash "$root/scripts/test-tool.sh" "$tool_out" || status=1
if [ -f "$tool_out" ]; then
  read -r tp tf < "$tool_out"
  passed=$((passed + tp)); failed=$((failed + tf))
else
  echo "the packaging check wrote no summary"; status=1
fi

# TypeScript suites (vitest, browser) report through scripts/test-node.sh when present.
if [ -f "$root/scripts/test-node.sh" ]; then
  log "TypeScript tests"
  if [ -n "$prepare_pid" ]; then
    wait "$prepare_pid" || echo "installing for the TypeScript suites failed (it is tried again below):"
    cat "$results/node-prepare.log"
  fi
  node_out="$results/node-summary.txt"
  bash "$root/scripts/test-node.sh" "$node_out" || status=1
  if [ -f "$node_out" ]; then
    read -r np nf < "$node_out"
    passed=$((passed + np)); failed=$((failed + nf))
  else
    echo "the TypeScript suites wrote no summary"; status=1
  fi
fi

[ "$failed" -gt 0 ] && status=1
[ "$passed" -eq 0 ] && status=1
if [ "$failed" -gt 0 ]; then
  # CI keeps only the end of this output: name every failed test here, with the first lines of
  # its message and, for a .NET test, the test's own line that failed.
  log "Failed tests"
  for trx in "$results"/dotnet/*.trx; do
    [ -e "$trx" ] || continue
    awk '
      function unescape(s) { gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&#xD;|&#xA;/, "", s); gsub(/&amp;/, "\\&", s); return s }
      /<UnitTestResult / { failed = /outcome="Failed"/; if (failed) { name = $0; sub(/.* testName="/, "", name); sub(/".*/, "", name); print unescape(name) }; part = ""; lines = 0; next }
      !failed { next }
      /<Message>/ { part = "message"; sub(/.*<Message>/, "") }
      /<StackTrace>/ { part = "stack"; sub(/.*<StackTrace>/, "") }
      part == "message" { done = sub(/<\/Message>.*/, ""); if (lines++ < 6) print "    " unescape($0); if (done) part = ""; next }
      part == "stack" { if (/EventHub\.Tests|EventHub\.Client\.Tests/ && / in .*:line /) { print "    " unescape($0); part = "" } else if (/<\/StackTrace>/) part = "" }
    ' "$trx" | cut -c1-300
  done
  [ -s "$results/node/failures.txt" ] && cat "$results/node/failures.txt"
  [ -s "$results/tool-failures.txt" ] && cat "$results/tool-failures.txt"
fi
echo
echo "(the suites took $((SECONDS - started)) s)"
echo "$passed passed, $failed failed"
exit $status
