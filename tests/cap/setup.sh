#!/usr/bin/env bash
# Installs SAP CAP (pinned: @sap/cds 9 and @cap-js/sqlite 2; version 10 needs Node 22) for the
# end-to-end test against a real OData server (tests/it/cap.rs). Skips when already installed.
set -euo pipefail
cd "$(dirname "$0")"
if [ -x node_modules/.bin/cds-serve ] && node -e "require('@sap/cds'); require('@cap-js/sqlite')" 2>/dev/null; then
  exit 0
fi
npm ci --no-fund --no-audit --loglevel=error
