#!/bin/sh
# The test command: installs what the tests need, then runs every test,
# including the end-to-end ones against rsync --daemon, rpki-client and FORT,
# and rpki-client 9, Routinator and StayRTR for ASPA.
set -eu
cd "$(dirname "$0")/.."
scripts/install-tools.sh
scripts/install-oracles.sh
cargo test --workspace --locked "$@"
