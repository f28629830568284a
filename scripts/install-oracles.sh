#!/bin/sh
# Installs the relying-party software that validates the current ASPA
# profile, beside Debian's own rpki-client (8.2, which reads an older
# profile) and FORT (no ASPA): rpki-client 9 and StayRTR (rtrdump, RTR
# version 2) unpacked from Debian's bookworm-backports, and Routinator
# built by cargo, all under /opt/anchorage-oracles. The test suite finds
# them there (anchorage_testkit::newer_oracle). Needs root.
set -eu
DEST=/opt/anchorage-oracles
ROUTINATOR=0.15.3
mkdir -p "$DEST"
if [ ! -x "$DEST/usr/sbin/rpki-client" ] || [ ! -x "$DEST/usr/bin/rtrdump" ]; then
    work=$(mktemp -d)
    mkdir -p "$work/lists/partial"
    echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$work/sources.list"
    apt_opts="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$work/lists -o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get $apt_opts update -qq
    # shellcheck disable=SC2086
    (cd "$work" && apt-get $apt_opts download rpki-client stayrtr)
    for deb in "$work"/*.deb; do
        dpkg-deb -x "$deb" "$DEST"
    done
    rm -rf "$work"
fi
"$DEST/usr/sbin/rpki-client" -V
if [ ! -x "$DEST/bin/routinator" ]; then
    # A released Routinator's lock file can name a yanked crate; then
    # the newest compatible versions are taken.
    cargo install --quiet --locked routinator --version "$ROUTINATOR" --root "$DEST" ||
        cargo install --quiet routinator --version "$ROUTINATOR" --root "$DEST"
fi
"$DEST/bin/routinator" --version
