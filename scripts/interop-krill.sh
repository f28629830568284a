#!/bin/bash
# Krill as the delegated child of Anchorage, over the real protocols:
# Krill's CA gets its certificate from Anchorage's online CA over RFC 6492,
# publishes at Anchorage's RFC 8181 server, and its ROA must validate from
# Anchorage's TAL in Anchorage's validator and in rpki-client.
#
# Not run in CI: it needs Krill (`cargo install --locked krill`, a long
# build; provides `krill` and `krillc`; last run with 0.16.1), plus
# rpki-client and rsync (scripts/install-tools.sh). Run from anywhere:
#
#   scripts/interop-krill.sh            # KEEP=1 keeps the work directory
#
# Ports (override with the environment): Anchorage HTTP 3080 and rsync
# 8873, Krill 3000, all on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

HTTP=${HTTP:-3080}
RSYNC=${RSYNC:-8873}
KRILL_PORT=${KRILL_PORT:-3000}

for tool in krill krillc rpki-client rsync; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool (Krill: cargo install --locked krill; others: scripts/install-tools.sh)" >&2
        exit 1
    }
done

cargo build --release --locked -p anchorage
A=$PWD/target/release/anchorage
W=$(mktemp -d /tmp/anchorage-krill.XXXXXX)
chmod 755 "$W"
D=$W/anchorage
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

wait_for() { # DESCRIPTION SECONDS COMMAND...
    local what=$1 secs=$2
    shift 2
    for _ in $(seq "$secs"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "timed out waiting for $what" >&2
    return 1
}

echo "== Anchorage (parent and repository)"
"$A" --data-dir "$D" init --rsync-uri rsync://127.0.0.1/repo/ \
    --rrdp-uri https://127.0.0.1/rrdp/ >/dev/null
"$A" --data-dir "$D" serve --http-listen 127.0.0.1:$HTTP \
    --rsync-listen 127.0.0.1:$RSYNC >"$W/anchorage.log" 2>&1 &
PIDS+=($!)
wait_for "Anchorage" 30 curl -sf http://127.0.0.1:$HTTP/health

echo "== Krill (child)"
mkdir -p "$W/krill"
cat >"$W/krill/krill.conf" <<EOF
storage_uri = "$W/krill/data"
admin_token = "interop"
ip = "127.0.0.1"
port = $KRILL_PORT
service_uri = "https://localhost:$KRILL_PORT/"
log_type = "file"
log_file = "$W/krill/krill.log"
log_level = "info"
EOF
# Krill 0.16 serves its CLI on a Unix socket by default; use HTTPS here.
if krill --version | grep -Eq ' 0\.(1[6-9]|[2-9][0-9])'; then
    echo 'unix_socket_enabled = false' >>"$W/krill/krill.conf"
fi
krill -c "$W/krill/krill.conf" &
PIDS+=($!)
# krillc trusts Krill's self-signed certificate on https://localhost.
export KRILL_CLI_SERVER=https://localhost:$KRILL_PORT/ KRILL_CLI_TOKEN=interop KRILL_CLI_FORMAT=text
wait_for "Krill" 60 krillc list

echo "== RFC 8183 exchange"
krillc add --ca lirk
krillc parents request --ca lirk >"$W/child_request.xml"
krillc repo request --ca lirk >"$W/publisher_request.xml"
"$A" --data-dir "$D" child add online --request "$W/child_request.xml" \
    --resources "AS65000, 10.0.0.0/16, 2001:db8:100::/40" \
    --service-uri http://127.0.0.1:$HTTP --response "$W/parent_response.xml"
"$A" --data-dir "$D" publisher add --request "$W/publisher_request.xml" \
    --service-uri http://127.0.0.1:$HTTP --response "$W/repository_response.xml"
krillc repo configure --ca lirk --response "$W/repository_response.xml"
krillc parents add --ca lirk --parent anchorage --response "$W/parent_response.xml"

echo "== RFC 6492: Krill asks for its certificate"
certified() {
    krillc bulk refresh >/dev/null 2>&1 || true
    "$A" --data-dir "$D" child list --format json | grep -q '"key"'
}
wait_for "Krill's certificate" 120 certified
"$A" --data-dir "$D" child list

echo "== RFC 8181: Krill publishes a ROA"
krillc roas update --ca lirk --add "10.0.0.0/24 => 65000"
published() {
    krillc bulk sync >/dev/null 2>&1 || true
    "$A" --data-dir "$D" publisher list --format json | grep -Eq '"objects": ([3-9]|[1-9][0-9])'
}
wait_for "Krill's manifest, CRL and ROA at Anchorage" 120 published
"$A" --data-dir "$D" publisher list
sleep 2

echo "== Validation from Anchorage's TAL"
printf '#!/bin/sh\nexec rsync --port=%s "$@"\n' "$RSYNC" >"$W/rsync-port"
chmod 755 "$W/rsync-port"
"$A" validate --tal "$D/ta.tal" --rsync-only --rsync-program "$W/rsync-port" \
    --cache "$W/rp-cache" --format csv >"$W/anchorage-vrps.csv"
grep -q '^AS65000,10.0.0.0/24,24,' "$W/anchorage-vrps.csv" || {
    echo "Anchorage's validator does not see Krill's ROA:" >&2
    cat "$W/anchorage-vrps.csv" >&2
    exit 1
}
mkdir -p "$W/rc/cache" "$W/rc/out"
if id _rpki-client >/dev/null 2>&1; then chown -R _rpki-client "$W/rc"; fi
cp "$D/ta.tal" "$W/rc/ta.tal"
rpki-client -R -e "$W/rsync-port" -H 127.0.0.1 -c -t "$W/rc/ta.tal" \
    -d "$W/rc/cache" "$W/rc/out" >"$W/rpki-client.log" 2>&1 || {
    cat "$W/rpki-client.log" >&2
    exit 1
}
grep -q '^AS65000,10.0.0.0/24,24,' "$W/rc/out/csv" || {
    echo "rpki-client does not see Krill's ROA:" >&2
    cat "$W/rc/out/csv" "$W/rpki-client.log" >&2
    exit 1
}
echo "interop OK: Krill's ROA AS65000 10.0.0.0/24 validates in Anchorage and rpki-client"
