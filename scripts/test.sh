#!/bin/sh
# The test command: installs what the tests need, then runs every test,
# including the end-to-end ones against rsync --daemon, rpki-client and FORT.
set -eu
cd "$(dirname "$0")/.."
scripts/install-tools.sh
cargo test --workspace --locked "$@"
