#!/usr/bin/env bash
# Headless Chromium for the `pimfeed serve` tests (tests/it/serve.rs), from Debian's
# `chromium` package. Idempotent: does nothing when a Chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/chromium/setup.sh: no apt-get; install Chromium yourself for the serve tests" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
