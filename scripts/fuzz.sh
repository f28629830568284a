#!/bin/sh
# Runs one fuzz target (see fuzz/README.md) for SECONDS with coverage-guided
# libFuzzer on the stable toolchain, from its corpus in fuzz/corpus/TARGET
# (seeded, when missing, with Anchorage's own output or fuzz/seeds/).
# Not part of CI; crashes are written to fuzz/artifacts/TARGET/.
set -eu
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] (targets: fuzz/README.md)}
secs=${2:-60}
cd "$(dirname "$0")/.."
corpus=fuzz/corpus/$target
fixtures=crates/anchorage/tests/fixtures/delegation
if [ ! -d "$corpus" ]; then
    mkdir -p "$corpus"
    case $target in
        rrdp_notification|rrdp_snapshot|rrdp_delta|rpki_object)
            # Seeded with the files of a small repository made now.
            tmp=$(mktemp -d)
            a() { cargo run -q -p anchorage -- --data-dir "$tmp/d" "$@" >/dev/null; }
            a init --rsync-uri rsync://127.0.0.1/repo/ --rrdp-uri https://127.0.0.1/rrdp/
            a ca create lir --resources "AS64496, 192.0.2.0/24, 2001:db8::/32"
            a roa add lir --asn 64496 --prefix 192.0.2.0/24 --max-length 25
            a roa add lir --asn 64496 --prefix 2001:db8::/32
            i=0
            case $target in
                rrdp_notification) pattern='notification.xml' ;;
                rrdp_snapshot) pattern='snapshot.xml' ;;
                rrdp_delta) pattern='delta.xml' ;;
                rpki_object) pattern='*.[cmr][eor][rtla]' ;;
            esac
            for f in $(find -L "$tmp/d/rrdp" "$tmp/d/rsync/current" -type f -name "$pattern"); do
                i=$((i + 1))
                cp "$f" "$corpus/seed$i"
            done
            rm -rf "$tmp"
            ;;
        # Messages captured from a real exchange (the protocol tests' fixtures).
        protocol_cms) cp "$fixtures"/*.der "$corpus"/ ;;
        rfc8183_xml) cp "$fixtures"/*.xml "$corpus"/ ;;
        protocol_xml|api_json|rtr_pdu) cp fuzz/seeds/"$target"/* "$corpus"/ ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
fi
# What cargo-fuzz passes, minus the sanitizer (which needs nightly). With
# an explicit --target the flags reach the fuzzed code only, not build
# scripts and proc macros (which would not link against libFuzzer).
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo build --release --manifest-path fuzz/Cargo.toml --target "$host" --bin "$target"
mkdir -p "fuzz/artifacts/$target"
exec "fuzz/target/$host/release/$target" -max_total_time="$secs" -max_len=1048576 \
    -artifact_prefix="fuzz/artifacts/$target/" "$corpus"
