#!/bin/sh
# The test command: installs what the tests need, then runs every test,
# including the end-to-end ones against rsync --daemon, rpki-client and FORT,
# rpki-client 9, Routinator and StayRTR for ASPA, and headless Chromium for
# the web interface.
set -eu
cd "$(dirname "$0")/.."
scripts/install-tools.sh --browser
scripts/install-oracles.sh
cargo test --workspace --locked "$@"
