#!/bin/sh
# Build every fuzz target with libFuzzer (clang), into build-fuzz/, and
# say how to run one.  `make check` replays the corpora without clang.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build-fuzz"
cd "$top"
command -v clang >/dev/null || { echo "fuzz: clang is required" >&2; exit 1; }
make BUILD="$out" CC=clang \
    CFLAGS='-O1 -g -fsanitize=fuzzer-no-link,address,undefined' \
    "$out/lib/libkrceremony.a" "$out/lib/libkrca.a" \
    "$out/lib/libkrpolicy.a" "$out/lib/libkrhsm.a" "$out/lib/libkrcommon.a"
flags=$(pkg-config --cflags --libs libcrypto libsodium yaml-0.1 jansson sqlite3)
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086
	clang -O1 -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
	    $(pkg-config --cflags p11-kit-1) -o "$out/$name" "$src" \
	    "$out/lib/libkrceremony.a" "$out/lib/libkrca.a" \
	    "$out/lib/libkrpolicy.a" "$out/lib/libkrhsm.a" \
	    "$out/lib/libkrcommon.a" $flags -ldl
	echo "built $out/$name"
done
echo "run one with e.g.: $out/fuzz_uri -max_total_time=60 tests/fuzz/corpus/uri"
