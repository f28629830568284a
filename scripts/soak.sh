#!/bin/sh
# Soak test (not part of CI): `serve` under steady load for MINUTES —
# API clients changing ROAs, routers on RTR, RRDP and rsync clients —
# killed with SIGKILL every KILL_EVERY seconds and started again. Prints
# file descriptors, RSS, API latency and lost acknowledged changes (must
# be 0: the command fails otherwise). docs/performance.md has a run.
set -eu
minutes=${1:-60}
kill_every=${2:-300}
cd "$(dirname "$0")/.."
scripts/install-tools.sh
exec cargo run --release --locked -q -p anchorage -- soak \
    --minutes "$minutes" --kill-every "$kill_every" --output target/soak.json
