#!/bin/sh
# Regenerates what the Debian package installs beside the binary from the
# command line's own definition: the man pages and the shell completions
# under crates/anchorage/packaging/. A test fails when they are stale.
set -eu
cd "$(dirname "$0")/.."
bin=${ANCHORAGE_BIN:-target/debug/anchorage}
[ -n "${ANCHORAGE_BIN:-}" ] || cargo build --locked -q -p anchorage
out=crates/anchorage/packaging
rm -rf "$out/man" "$out/completions"
"$bin" manpages "$out/man" >/dev/null
mkdir -p "$out/completions"
"$bin" completions bash >"$out/completions/anchorage.bash"
"$bin" completions zsh >"$out/completions/_anchorage"
"$bin" completions fish >"$out/completions/anchorage.fish"
echo "regenerated $out/man and $out/completions"
