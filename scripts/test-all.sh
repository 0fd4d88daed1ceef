#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian machine with Node 20:
# installs what the tests need (Debian's postgresql and chromium when missing, the npm packages),
# builds the package, runs every static check and every test, and ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null; then
  step 'npm ci'
  npm ci --no-audit --no-fund
fi

step 'build (portable folders compile without Node types)'
npm run --silent build
step 'typecheck'
npx tsc --noEmit -p tsconfig.json
step 'lint and format (biome)'
npx biome check .
step 'layering'
npm run --silent layering
step 'package contents'
node scripts/check-pack.mjs
step 'tests (vitest)'
mkdir -p .tmp
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json
vitest_status=$?
set -e
summary=$(node -e "const r=require('./.tmp/vitest.json');console.log(r.numPassedTests+' passed, '+r.numFailedTests+' failed')")
if [ -f test/conformance/run.mjs ]; then
  step 'MCP conformance suite'
  npm run --silent conformance
fi
echo
echo "tests: ${summary}"
exit "$vitest_status"
