#!/usr/bin/env bash
# bench/acme.sh BUILD: keyrited's ACME rate end to end beside its token
# API's, on one daemon (intermediate key in a file, root on a throwaway
# SoftHSM2 token).  The token API is driven by bench/loadgen; ACME by
# tests/tools/acme_probe, our own client: each order is new order ->
# authorization -> http-01 (answered by the probe on loopback, validated
# by keyrited) -> finalize -> certificate download.  Prints
#   token_api certs/s R
#   acme orders/s R
#   ratio acme/token_api: X.XX
# KEYRITE_ACME_ORDERS (200) and KEYRITE_ACME_THREADS (8) set the ACME
# load; KEYRITE_SIGNER_SECONDS (10) and _THREADS (8) the token API's.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
orders=${KEYRITE_ACME_ORDERS:-200}
athreads=${KEYRITE_ACME_THREADS:-8}
secs=${KEYRITE_SIGNER_SECONDS:-10}
threads=${KEYRITE_SIGNER_THREADS:-8}
for v in "$orders" "$athreads" "$secs" "$threads"; do
	case $v in
	''|*[!0-9]*|0) echo "bench/acme.sh: KEYRITE_ACME_ORDERS, _THREADS," \
		"KEYRITE_SIGNER_SECONDS and _THREADS must be whole numbers" \
		"above 0" >&2; exit 2 ;;
	esac
done
keyrite=$top/$build/bin/keyrite
keyrited=$top/$build/bin/keyrited
loadgen=$top/$build/bench/loadgen
probe=$top/$build/tools/acme_probe
for b in "$keyrite" "$keyrited" "$loadgen" "$probe"; do
	[ -x "$b" ] || { echo "bench/acme.sh: $b missing; run make bench" >&2
		exit 1; }
done
export KEYRITE_PROFILE_DIR="$top/profiles"
unset KEYRITE_NOW

work=$(mktemp -d "${TMPDIR:-/tmp}/keyrite-acme.XXXXXX")
chmod 700 "$work"
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, shared with the other benchmark scripts.
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# The root on a throwaway token, as bench/signer.sh makes it.
mkdir -p "$work/hsm/tokens" "$work/pins" "$work/roothome"
chmod 700 "$work/pins"
cat >"$work/hsm/softhsm2.conf" <<EOF2
directories.tokendir = $work/hsm/tokens
objectstore.backend = file
log.level = ERROR
EOF2
export SOFTHSM2_CONF=$work/hsm/softhsm2.conf KEYRITE_HOME=$work/roothome
for p in so user; do
	(umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' \
	    >"$work/pins/$p.pin")
done
"$keyrite" hsm init-token --label bench-root --so-pin-file \
    "$work/pins/so.pin" --pin-file "$work/pins/user.pin" >/dev/null
"$keyrite" hsm keygen --token 'pkcs11:token=bench-root' --pin-file \
    "$work/pins/user.pin" --label root --type ec-p256 >/dev/null
"$keyrite" root init --key 'pkcs11:token=bench-root;object=root' \
    --pin-file "$work/pins/user.pin" --subject 'CN=Bench Root' --days 60 \
    --permitted-dns lab.internal --permitted-ip 127.0.0.0/8 \
    --out "$work/root.pem" >/dev/null
home=$work/kd
pub=$(free_port)
"$keyrited" init --home "$home" --subject 'CN=Bench Issuing CA' \
    --public-url "http://127.0.0.1:$pub" >/dev/null
"$keyrite" root sign --key 'pkcs11:token=bench-root;object=root' \
    --pin-file "$work/pins/user.pin" --ca "$work/root.pem" \
    --csr "$home/intermediate.csr" --profile intermediate --days 30 \
    --out "$work/int.pem" >/dev/null
"$keyrited" install --home "$home" --cert "$work/int.pem" \
    --root "$work/root.pem" >/dev/null
"$keyrited" provisioner add --home "$home" --name bench \
    --allow '*.bench.lab.internal' --out "$work/bench.provisioner" >/dev/null
"$keyrited" provisioner add --home "$home" --name acme --acme \
    --allow '*.lab.internal' >/dev/null
http01=$(free_port)
cat >>"$home/keyrited.yaml" <<EOF2
acme_http01_port: $http01
acme_connect: "127.0.0.1"
EOF2
port=$(free_port)
"$keyrited" serve --home "$home" --listen "127.0.0.1:$port" \
    --publish "127.0.0.1:$pub" >"$work/kd.log" 2>&1 &
pid=$!
for i in $(seq 150); do
	kill -0 "$pid" 2>/dev/null || { tail -20 "$work/kd.log" >&2; exit 1; }
	grep -q "(pid $pid)" "$work/kd.log" && break
	sleep 0.1
done

echo "== ACME: end-to-end orders against the token API, one keyrited"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
tok=$("$loadgen" --server keyrited --url "https://127.0.0.1:$port" \
    --cacert "$work/root.pem" --provisioner "$work/bench.provisioner" \
    -t "$threads" -d "$secs" --label token_api)
echo "  $tok"
acme=$("$probe" "https://127.0.0.1:$port/acme/directory" "$work/root.pem" \
    "$http01" bench x "$orders" "$athreads")
echo "$acme" | sed 's/^/  /'
tr=$(awk '{ for (i = 2; i < NF; i++) if ($i == "certs/s") print $(i + 1) }' \
    <<<"$tok")
ar=$(awk '$1 == "acme_orders_per_second" { print $2 }' <<<"$acme")
printf '%-10s %10s %s\n' endpoint rate unit
printf '%-10s %10s %s\n' token_api "$tr" certs/s acme "$ar" orders/s
awk -v a="$ar" -v t="$tr" 'BEGIN { if (t > 0) printf "ratio " \
    "acme/token_api: %.2f\n", a / t; else print "ratio acme/token_api: n/a" }'
