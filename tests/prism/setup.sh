#!/usr/bin/env bash
# Installs Prism (pinned: @stoplight/prism-cli 5.9.0, see package-lock.json), which serves mock
# marketplace APIs from their own OpenAPI documents for the push tests (tests/it/push.rs).
# Skips when already installed.
set -euo pipefail
cd "$(dirname "$0")"
if [ -x node_modules/.bin/prism ] && node_modules/.bin/prism --version >/dev/null 2>&1; then
  exit 0
fi
npm ci --no-fund --no-audit --loglevel=error
