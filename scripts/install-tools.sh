#!/bin/sh
# Installs the independent tools the demo and the tests run against
# Anchorage's output (rsync, rpki-client, FORT) and the trust store tool the
# HTTPS tests use (ca-certificates), faketime, which runs rpki-client at
# future times in the scheduler test, and SoftHSM2, the PKCS#11 token the
# key custody tests keep CA keys in, PostgreSQL, whose server the store
# and PostgreSQL tests start for themselves, and with --browser Chromium
# with ChromeDriver, which the web interface's tests drive, when they are
# missing.
set -eu
missing=""
command -v rsync >/dev/null 2>&1 || missing="$missing rsync"
command -v rpki-client >/dev/null 2>&1 || missing="$missing rpki-client"
command -v fort >/dev/null 2>&1 || missing="$missing fort-validator"
command -v update-ca-certificates >/dev/null 2>&1 || missing="$missing ca-certificates"
command -v faketime >/dev/null 2>&1 || missing="$missing faketime"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v rtrclient >/dev/null 2>&1 || missing="$missing rtr-tools"
command -v softhsm2-util >/dev/null 2>&1 || missing="$missing softhsm2"
# Headless Chromium and its WebDriver, for the web interface's tests
# (asked for with --browser; the demo does not need them).
if [ "${1:-}" = "--browser" ]; then
    command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium chromium-driver"
fi
# Debian keeps the server programs out of PATH, in /usr/lib/postgresql/N/bin.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
