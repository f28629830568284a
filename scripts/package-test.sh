#!/bin/sh
# Builds the Debian package (cargo-deb) and checks it on this machine, as
# root, the way an operator meets it: installs it, checks its files,
# modes and user, verifies the systemd unit, initialises the data
# directory as the service's user, starts the service from the unit's own
# command line, user and capabilities (systemd need not be PID 1), checks
# that it serves RRDP, rsync and a healthy status, stops it, and purges the
# package. Run by .ci/run after the tests; it changes the system, so it is
# not part of scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "package-test: needs root (it installs a package)" >&2; exit 1; }
if ! command -v cargo-deb >/dev/null 2>&1; then
    cargo install cargo-deb --version 3.8.0 --locked -q
fi
command -v systemd-analyze >/dev/null 2>&1 || {
    apt-get update -qq && apt-get install -y -qq systemd >/dev/null
}
# The tests' debug binary, stripped by cargo-deb: no second (release) build.
cargo build --locked -q -p anchorage
deb=target/anchorage.deb
cargo deb -p anchorage --profile dev --no-build --fast -o "$deb"
dpkg-deb --info "$deb" | grep -q "Depends:.*rsync"
# Whatever a failed check leaves is removed, so the script can run again.
cleanup() {
    [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null || true
    dpkg --purge anchorage >/dev/null 2>&1 || true
    rm -rf /var/lib/anchorage
    deluser --system --quiet anchorage >/dev/null 2>&1 || true
    delgroup --system --quiet anchorage >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
# apt, not dpkg -i, so the dependencies come too, as for an operator.
apt-get install -y -qq "./$deb" >/dev/null

fail() { echo "package-test: $*" >&2; exit 1; }
mode() { stat -c '%U:%G %a' "$1"; }
[ -x /usr/bin/anchorage ] || fail "no /usr/bin/anchorage"
getent passwd anchorage >/dev/null || fail "no user anchorage"
[ "$(mode /var/lib/anchorage)" = "anchorage:anchorage 700" ] || fail "/var/lib/anchorage is $(mode /var/lib/anchorage)"
[ "$(mode /etc/anchorage/anchorage.toml)" = "root:anchorage 640" ] || fail "anchorage.toml is $(mode /etc/anchorage/anchorage.toml)"
for f in /usr/share/man/man1/anchorage.1.gz /usr/share/man/man1/anchorage-serve.1.gz \
         /usr/share/man/man1/anchorage-roa-import.1.gz \
         /usr/share/bash-completion/completions/anchorage \
         /usr/share/zsh/vendor-completions/_anchorage \
         /usr/share/fish/vendor_completions.d/anchorage.fish \
         /lib/systemd/system/anchorage.service; do
    [ -f "$f" ] || fail "missing $f"
done
unit=/lib/systemd/system/anchorage.service
systemd-analyze verify "$unit"
for setting in StateDirectory=anchorage NoNewPrivileges=yes ProtectSystem=strict \
               ProtectHome=yes PrivateTmp=yes LimitNOFILE= Restart=on-failure \
               AmbientCapabilities=CAP_NET_BIND_SERVICE CapabilityBoundingSet=CAP_NET_BIND_SERVICE; do
    grep -q "^$setting" "$unit" || fail "the unit lacks $setting"
done

# Initialise as the service's user, then start the unit's command line as
# systemd would: its user, its environment, only its capability. It
# replaces the (sub)shell it runs in, so call it in one: ( as_service ... ).
as_service() {
    exec setpriv --reuid anchorage --regid anchorage --init-groups \
        --inh-caps +net_bind_service --ambient-caps +net_bind_service \
        --bounding-set -all,+net_bind_service -- \
        env ANCHORAGE_DATA_DIR=/var/lib/anchorage HOME=/var/lib/anchorage "$@"
}
(as_service /usr/bin/anchorage init --rsync-uri rsync://127.0.0.1/repo/ \
    --rrdp-uri https://127.0.0.1/rrdp/) >/dev/null
(as_service /usr/bin/anchorage ca create member --resources "AS64496, 192.0.2.0/24") >/dev/null
(as_service /usr/bin/anchorage roa add member --asn 64496 --prefix 192.0.2.0/24) >/dev/null
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
# The subshell becomes serve, so $! is serve's own pid.
# shellcheck disable=SC2086
(as_service $exec_start) >/tmp/anchorage-package-test.log 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 100); do
    if curl -fsS http://127.0.0.1:8080/health >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
done
[ -n "$ok" ] || { cat /tmp/anchorage-package-test.log >&2; fail "serve did not answer /health"; }
curl -fsS http://127.0.0.1:8080/rrdp/notification.xml | grep -q "<notification" || fail "no RRDP notification"
rsync --list-only rsync://127.0.0.1/repo/member/ | grep -q "AS64496.roa" || fail "rsync on port 873 does not serve the ROA"
status=$( (as_service /usr/bin/anchorage status) 2>&1) || fail "status is not healthy: $status"
echo "$status" | grep -q "serve            running" || fail "status does not see serve: $status"
kill -TERM "$pid"
wait "$pid" || fail "serve did not exit 0 on SIGTERM"
pid=""
# The files serve made belong to the service's user.
[ -z "$(find /var/lib/anchorage ! -user anchorage)" ] || fail "files not owned by anchorage: $(find /var/lib/anchorage ! -user anchorage)"

# Purge keeps the CA's data, and the user that owns it.
dpkg --purge anchorage
[ ! -e /usr/bin/anchorage ] || fail "the binary stayed"
[ ! -e /etc/anchorage ] || fail "/etc/anchorage stayed"
[ -f /var/lib/anchorage/anchorage.db ] || fail "purge removed the CA's store"
getent passwd anchorage >/dev/null || fail "purge removed the user that owns the CA's keys"
# Installed again, it serves the same data; purged with nothing in the
# data directory, the user goes too.
apt-get install -y -qq "./$deb" >/dev/null
[ "$(mode /var/lib/anchorage/anchorage.db)" = "anchorage:anchorage 600" ] || fail "the kept store is $(mode /var/lib/anchorage/anchorage.db)"
rm -rf /var/lib/anchorage/* /var/lib/anchorage/.[!.]*
dpkg --purge anchorage
[ ! -e /var/lib/anchorage ] || fail "an empty data directory stayed"
! getent passwd anchorage >/dev/null || fail "the user stayed with no data"
trap - EXIT
echo "package-test: the package installs, serves from its unit's command line, and purges"
