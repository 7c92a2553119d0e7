#!/usr/bin/env bash
# Runs the TypeScript suites (clients/typescript: unit, integration against a real hub and
# PostgreSQL, browser tests in Debian's Chromium) and writes "<passed> <failed>" to the file given
# as the only argument. scripts/test.sh calls it. It installs what a fresh machine lacks: npm
# packages (npm ci), Chromium, PostgreSQL server binaries; and builds the hub.
#   scripts/test-node.sh --prepare  only installs what is missing and runs npm ci (scripts/test.sh
#   runs this while the .NET tests run; the next run then skips npm ci once).
set -uo pipefail
prepare_only=0
if [ "${1:-}" = --prepare ]; then prepare_only=1; set -- /dev/null; fi
summary=${1:?usage: scripts/test-node.sh SUMMARY_FILE | --prepare}
case "$summary" in /*) ;; *) summary="$(pwd)/$summary" ;; esac
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/TestResults/node"
mkdir -p "$results" "$(dirname "$summary")"
[ "$prepare_only" = 1 ] || echo "0 1" > "$summary" # until the suites have run: a crash below counts as a failure

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  [ "$apt_updated" = 1 ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Node.js without a working npm (seen here: NodeSource's package whose npm lost its files in a
# failed upgrade, and Debian's npm package conflicts with that Node.js): take npm itself from the
# npm registry, a pinned version, and put npm and npx on the PATH.
if command -v node >/dev/null && ! npm --version >/dev/null 2>&1; then
  npm_version=10.9.4
  npm_home="$root/TestResults/npm-$npm_version"
  if [ ! -f "$npm_home/package/bin/npm-cli.js" ]; then
    log "Fetching npm $npm_version from the npm registry"
    mkdir -p "$npm_home"
    curl -fsSL "https://registry.npmjs.org/npm/-/npm-$npm_version.tgz" | tar xz -C "$npm_home" || exit 1
  fi
  mkdir -p "$npm_home/shims"
  printf '#!/bin/sh\nexec node "%s/package/bin/npm-cli.js" "$@"\n' "$npm_home" > "$npm_home/shims/npm"
  printf '#!/bin/sh\nexec node "%s/package/bin/npx-cli.js" "$@"\n' "$npm_home" > "$npm_home/shims/npx"
  chmod +x "$npm_home/shims/npm" "$npm_home/shims/npx"
  export PATH="$npm_home/shims:$PATH"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null; then
  log "Installing Node.js"; apt_install nodejs npm
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then echo "Node.js 20 or newer is needed (found $(node --version 2>/dev/null || echo none))."; exit 1; fi
fi
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM_PATH" ]; then log "Installing Chromium"; apt_install chromium; fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  log "Installing PostgreSQL server binaries"; apt_install postgresql
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --home /var/lib/postgresql postgres; fi

prepared="$root/TestResults/node-prepared"
if [ "$prepare_only" = 0 ] && [ -f "$prepared" ]; then
  rm -f "$prepared"; log "npm ci: done while the .NET tests ran"
else
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error || exit 1
fi
if [ "$prepare_only" = 1 ]; then touch "$prepared"; exit 0; fi
log "Building the hub"
dotnet build "$root/Hub" -nologo -v q || exit 1

status=0
extra_failed=0
log "Type-checking and building @eventhub/client"
if ! (cd clients/typescript && npx tsc -p tsconfig.json --noEmit && npm run -s build); then
  echo "type-check or build failed"; extra_failed=1; status=1
fi

log "vitest (unit, integration, browser, third-party clients)"
rm -f "$results/vitest.json"
# Each hub process the suites start writes its output here (test/support/HubProcess.ts).
export EVENTHUB_TS_HUB_LOGS="$results/hubs"
rm -rf "$EVENTHUB_TS_HUB_LOGS"
(cd clients/typescript && npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json") || status=1
if [ ! -f "$results/vitest.json" ]; then echo "vitest wrote no results"; exit 1; fi
read -r passed failed < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const failedSuites = (r.testResults || []).filter((s) => s.status === "failed" && (s.assertionResults || []).length === 0).length;
  console.log(r.numPassedTests, r.numFailedTests + failedSuites);' "$results/vitest.json")
failed=$((failed + extra_failed))
# Each failed test's name and the first lines of its message, for the summary that scripts/test.sh
# prints last (CI keeps only the end of the output).
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const s of r.testResults || []) {
    const failed = (s.assertionResults || []).filter((a) => a.status === "failed");
    if (s.status === "failed" && failed.length === 0)
      console.log(`${s.name}\n    ${String(s.message || "the file failed").split("\n").slice(0, 6).join("\n    ")}`);
    for (const a of failed)
      console.log(`${a.fullName}\n    ${String((a.failureMessages || [""])[0]).split("\n").slice(0, 6).join("\n    ")}`);
  }' "$results/vitest.json" | cut -c1-300 > "$results/failures.txt"
if [ "$failed" -gt 0 ] && [ -d "$EVENTHUB_TS_HUB_LOGS" ]; then
  # CI keeps only this output: the hubs' warnings and errors (each with its indented lines; at
  # most 60 lines a hub) are the hub's side of a failure.
  for file in "$EVENTHUB_TS_HUB_LOGS"/*.log; do
    [ -e "$file" ] || continue
    problems=$(awk '/^(warn|fail|crit):/ { shown = 1; print; next } /^      / && shown { print; next } { shown = 0 }' "$file" | head -60 | cut -c1-400)
    [ -n "$problems" ] || continue
    log "Warnings and errors of $(head -1 "$file" | sed 's/^== //')"
    printf '%s\n' "$problems"
  done
fi
echo "$passed $failed" > "$summary"
echo "TypeScript: $passed passed, $failed failed"
[ "$failed" -gt 0 ] && status=1
[ "$passed" -eq 0 ] && status=1
exit $status
