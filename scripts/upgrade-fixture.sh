#!/bin/sh
# Writes this release's upgrade fixture: a data directory made by the
# current binary holding one of each kind of state (CAs under CAs, ROAs,
# a contact, a token, a key rollover in its staging period), as a gzipped
# tar for crates/anchorage/tests/upgrade.rs. Run it once per release and
# commit the file next to the earlier ones; the test opens every one.
#
#   scripts/upgrade-fixture.sh crates/anchorage/tests/fixtures/upgrade/0.1.0.tar.gz
set -eu
out=${1:?usage: scripts/upgrade-fixture.sh OUT.tar.gz}
bin=${ANCHORAGE_BIN:-target/debug/anchorage}
[ -n "${ANCHORAGE_BIN:-}" ] || cargo build --locked -q -p anchorage
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
d=$work/data
a() { "$bin" --data-dir "$d" "$@" >/dev/null; }
a init --rsync-uri rsync://127.0.0.1/repo/ --rrdp-uri https://127.0.0.1/rrdp/
a ca create nir --resources "AS64496-AS64511, 10.0.0.0/8, 2001:db8::/32"
a ca create lir --parent nir --resources "AS64496, 10.1.0.0/16, 2001:db8:1::/48"
a roa add lir --asn 64496 --prefix 10.1.0.0/16 --max-length 24
a roa add lir --asn 64496 --prefix 2001:db8:1::/48
a roa add nir --asn 64511 --prefix 10.2.0.0/16
printf 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:LIR operations\r\nEMAIL:noc@example.net\r\nEND:VCARD\r\n' >"$work/contact.vcf"
a ca contact lir --vcard "$work/contact.vcf"
a token create --role ca-operator --ca lir --description "upgrade fixture"
a ca keyroll nir --start
a publish
# The last command closed the store, which folds its WAL into the file.
tar -C "$d" -czf "$out" anchorage.db keys ta.tal tls
echo "wrote $out"
