#!/usr/bin/env bash
# bench/run.sh BUILD: keyrite's benchmarks and their peers, measured in
# the same run.  Builds nothing (`make bench` did).  Prints bench_sign's
# table, the sign rates of `openssl speed` on this machine, the line
# `ratio keyrite-careful-sign/openssl-speed (P-384): X.XX`, and then the
# online signer against cfssl (bench/signer.sh), which ends with the line
# `ratio keyrited/cfssl: X.XX`, then ACME orders per second end to end
# beside the token API's rate (bench/acme.sh, `ratio acme/token_api`).
# KEYRITE_BENCH_SECONDS (whole seconds, default 2) sets the time a row;
# signer.sh reads KEYRITE_SIGNER_SECONDS, _ROUNDS and _THREADS.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${KEYRITE_BENCH_SECONDS:-2}
case $secs in
''|*[!0-9]*|0) echo "bench/run.sh: KEYRITE_BENCH_SECONDS='$secs' is not" \
	"a whole number of seconds" >&2; exit 2 ;;
esac
bin=$top/$build/bench/bench_sign
[ -x "$bin" ] || { echo "bench/run.sh: $bin missing; run make bench" >&2
	exit 1; }
export KEYRITE_PROFILE_DIR="$top/profiles"
unset KEYRITE_NOW

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== bench_sign: keyrite's signing paths on a throwaway SoftHSM2 token"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" -t "$secs" | tee "$out"

echo
echo "== peer: openssl speed -seconds $secs ecdsap384 ecdsap256"
speed=$(openssl speed -seconds "$secs" ecdsap384 ecdsap256 2>/dev/null)
# " 384 bits ecdsa (nistp384)   0.0008s   0.0007s   1226.2   1493.2"
rate() {
	awk -v c="$1" '$0 ~ "ecdsa \\(" c "\\)" { print $(NF-1) }' <<<"$speed"
}
p384=$(rate nistp384)
p256=$(rate nistp256)
if [ -z "$p384" ] || [ -z "$p256" ]; then
	echo "bench/run.sh: cannot read openssl speed's output:" >&2
	echo "$speed" >&2
	exit 1
fi
printf '%-6s %-14s %10s\n' curve bench sign/s
printf '%-6s %-14s %10s\n' P-384 openssl-speed "$p384" P-256 openssl-speed \
	"$p256"

figure() {
	awk -v c="$1" -v b="$2" '$1 == c && $2 == b { print $4 }' "$out"
}
echo
for c in P-256 P-384; do
	k=$(figure "$c" careful-token)
	o=$p384
	[ "$c" = P-256 ] && o=$p256
	[ -n "$k" ] || { echo "bench/run.sh: no careful-token figure for" \
		"$c" >&2; exit 1; }
	awk -v k="$k" -v o="$o" -v c="$c" 'BEGIN { printf "ratio " \
	    "keyrite-careful-sign/openssl-speed (%s): %.2f\n", c, k / o }'
done

echo
"$top/bench/signer.sh" "$build"

echo
"$top/bench/acme.sh" "$build"
