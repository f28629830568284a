#!/bin/sh
# Installs the relying-party software that validates the current ASPA
# profile and BGPsec router keys, beside Debian's own rpki-client (8.2,
# which reads an older ASPA profile) and FORT (no ASPA): rpki-client 9
# and StayRTR unpacked from Debian's bookworm-backports (whatever version
# it carries: the tests read rpki-client 9's JSON), and Routinator built
# by cargo, all under /opt/anchorage-oracles. The test suite finds them
# there (anchorage_testkit::newer_oracle). Uses sudo when not root.
set -eu
DEST=/opt/anchorage-oracles
ROUTINATOR=0.15.3
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO mkdir -p "$DEST"
if [ ! -x "$DEST/usr/sbin/rpki-client" ] || [ ! -x "$DEST/usr/bin/rtrdump" ]; then
    work=$(mktemp -d)
    mkdir -p "$work/lists/partial"
    echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$work/sources.list"
    apt_opts="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$work/lists -o APT::Sandbox::User=$(id -un)"
    # shellcheck disable=SC2086
    apt-get $apt_opts update -qq
    # shellcheck disable=SC2086
    (cd "$work" && apt-get $apt_opts download rpki-client stayrtr)
    for deb in "$work"/*.deb; do
        $SUDO dpkg-deb -x "$deb" "$DEST"
    done
    rm -rf "$work"
fi
"$DEST/usr/sbin/rpki-client" -V
if [ ! -x "$DEST/bin/routinator" ]; then
    # Built as the caller, copied into place. A released Routinator's
    # lock file can name a yanked crate; then the newest compatible
    # versions are taken.
    build=$(mktemp -d)
    cargo install --quiet --locked routinator --version "$ROUTINATOR" --root "$build" ||
        cargo install --quiet routinator --version "$ROUTINATOR" --root "$build"
    $SUDO mkdir -p "$DEST/bin"
    $SUDO cp "$build/bin/routinator" "$DEST/bin/routinator"
    rm -rf "$build"
fi
"$DEST/bin/routinator" --version
