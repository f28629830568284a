#!/bin/sh
# The demo: installs rsync, rpki-client and FORT when missing, then builds,
# publishes and validates a small RIR hierarchy in a temporary directory.
set -eu
cd "$(dirname "$0")/.."
scripts/install-tools.sh
cargo run --release --locked -p anchorage -- demo "$@"
