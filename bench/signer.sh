#!/usr/bin/env bash
# bench/signer.sh BUILD: the online signer, keyrited, against cfssl
# (Debian's golang-cfssl), both signing P-256 CSRs over HTTPS on this
# machine, driven by the same load generator ($BUILD/bench/loadgen, see
# bench/loadgen.c).  For each server it prints certs/s, p50/p99 latency
# and the server's peak RSS, then the fraction of `openssl speed
# -seconds 2 ecdsap256` sign/s each reached, and last
#
#   ratio keyrited/cfssl: X.XX
#
# All servers are started first, then loaded one at a time in slices that
# take turns (in one order, then the reverse), so that load coming and
# going elsewhere on the machine falls on every server alike.  Everything
# happens in a throwaway directory on free 127.0.0.1 ports; every server
# started is stopped on exit.  bench/README.md says how to read it.
# Environment:
#   KEYRITE_SIGNER_SECONDS  timed seconds a server, in all (default 10)
#   KEYRITE_SIGNER_ROUNDS   slices they are cut into (default 5)
#   KEYRITE_SIGNER_THREADS  loadgen threads, one connection each (8)
#   KEYRITE_SIGNER_ONLY     the rows to run, e.g. "keyrited cfssl"
#                           (default: all)
#   KEYRITE_SIGNER_BASELINE another keyrited binary (an older build), run
#                           as the row keyrited-base, set up like keyrited
# Exit 1 if a server failed a request; a keyrited not built yet is
# skipped and said so.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${KEYRITE_SIGNER_SECONDS:-10}
rounds=${KEYRITE_SIGNER_ROUNDS:-5}
threads=${KEYRITE_SIGNER_THREADS:-8}
for v in "$secs" "$rounds" "$threads"; do
	case $v in
	''|*[!0-9]*|0) echo "bench/signer.sh: KEYRITE_SIGNER_SECONDS," \
		"_ROUNDS and _THREADS must be whole numbers above 0" >&2
		exit 2 ;;
	esac
done
loadgen=$top/$build/bench/loadgen
keyrite=$top/$build/bin/keyrite
keyrited=$top/$build/bin/keyrited
[ -x "$loadgen" ] || { echo "bench/signer.sh: $loadgen missing; run" \
	"make bench" >&2; exit 1; }
for t in cfssl sqlite3 openssl; do
	command -v "$t" >/dev/null || { echo "bench/signer.sh: $t not found;" \
		"run scripts/install-deps.sh (cfssl is package golang-cfssl)" \
		>&2; exit 1; }
done
export KEYRITE_PROFILE_DIR="$top/profiles"
unset KEYRITE_NOW

work=$(mktemp -d "${TMPDIR:-/tmp}/keyrite-signer.XXXXXX")
chmod 700 "$work"
results=$work/results	# loadgen's lines, one per slice, + round N
labels=()		# the servers, in the order they are loaded
declare -A pid_of	# label -> pid of the running server
declare -A args_of	# label -> loadgen's arguments, one per line
declare -A rss_of	# label -> peak RSS in KiB, taken before stopping
status=0

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local l
	for l in "${!pid_of[@]}"; do
		kill -TERM "${pid_of[$l]}" 2>/dev/null || true
	done
	for l in "${!pid_of[@]}"; do
		wait "${pid_of[$l]}" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, shared with the other benchmark scripts.
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# Wait until pid listens on port (15 s at most); its log on failure.
wait_listen() {
	local pid=$1 port=$2 log=$3 i
	for i in $(seq 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "bench/signer.sh: the server exited; its log:" >&2
			tail -20 "$log" >&2
			return 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench/signer.sh: nothing listens on port $port after 15 s;" \
		"the server's log:" >&2
	tail -20 "$log" >&2
	return 1
}

# pid and all its descendants.
tree_pids() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		tree_pids "$c"
	done
}

# The server's peak RSS in KiB: VmHWM summed over the process and its
# children alive now.  Shared pages count once per process, so with
# several processes this is an upper bound.
peak_rss_kib() {
	local sum=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" \
			2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# CPU time (user + system, in clock ticks) used so far by the server and
# its children alive now.
cpu_ticks() {
	local sum=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' \
			"/proc/$p/stat" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# started LABEL PID PORT LOG LOADGEN-ARGS...: wait for the server to
# listen and register it for the rounds.
started() {
	local label=$1 pid=$2 port=$3 log=$4
	shift 4
	pid_of[$label]=$pid
	wait_listen "$pid" "$port" "$log"
	labels+=("$label")
	args_of[$label]=$(printf '%s\n' "$@")
}

stop_server() {
	local label=$1 pid=${pid_of[$1]} i
	rss_of[$label]=$(peak_rss_kib "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "pid_of[$label]"
}

# slice LABEL ROUND: one loadgen run against the server, its line kept
# with the round and its latencies kept for pooling.
slice() {
	local label=$1 r=$2 line rc=0 a=() c0 c1
	mapfile -t a <<<"${args_of[$label]}"
	c0=$(cpu_ticks "${pid_of[$label]}")
	line=$("$loadgen" --label "$label" -t "$threads" \
	    -d "$(awk -v s="$secs" -v r="$rounds" 'BEGIN { print s / r }')" \
	    --latencies "$work/lat.$label.$r" "${a[@]}") || rc=$?
	c1=$(cpu_ticks "${pid_of[$label]}")
	if [ -z "$line" ]; then
		echo "bench/signer.sh: $label: loadgen gave no figures" >&2
		status=1
		return 0
	fi
	# The server's CPU over the slice, warm-up included (loadgen's n
	# counts the timed part only, so this is a slight overestimate).
	line="$line server_cpu_s $(awk -v t=$((c1 - c0)) \
	    -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')"
	[ "$rc" -eq 0 ] || status=1
	echo "  $line"
	echo "$line round $r" >>"$results"
}

# ---------------------------------------------------------------- cfssl

# cfssl serve with a P-256 CA made by openssl, a 24 h leaf profile with
# the same extensions keyrited's leaves carry (CDP, AIA), over TLS.
# cfssl ships no certdb schema: the tables are those of its
# certdb/sqlite/migrations (the columns its INSERTs name).
cfssl_setup() {
	local d=$work/cfssl
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca-key.pem" -out "$d/ca.pem" -days 30 \
	    -subj '/CN=Bench cfssl CA' \
	    -addext 'basicConstraints=critical,CA:TRUE' \
	    -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/tls-key.pem" -out "$d/tls.pem" -days 30 \
	    -subj '/CN=127.0.0.1' -addext 'subjectAltName=IP:127.0.0.1' \
	    2>/dev/null
	cat >"$d/config.json" <<-'EOF'
	{"signing": {"default": {
	  "expiry": "24h",
	  "usages": ["digital signature", "server auth"],
	  "crl_url": "http://127.0.0.1:1/crl/intermediate.crl",
	  "issuer_urls": ["http://127.0.0.1:1/certs/intermediate.der"]
	}}}
	EOF
	cat >"$d/schema.sql" <<-'EOF'
	CREATE TABLE certificates (
	  serial_number            blob NOT NULL,
	  authority_key_identifier blob NOT NULL,
	  ca_label                 blob,
	  status                   blob NOT NULL,
	  reason                   int,
	  expiry                   timestamp,
	  revoked_at               timestamp,
	  pem                      blob NOT NULL,
	  PRIMARY KEY(serial_number, authority_key_identifier)
	);
	CREATE TABLE ocsp_responses (
	  serial_number            blob NOT NULL,
	  authority_key_identifier blob NOT NULL,
	  body                     blob NOT NULL,
	  expiry                   timestamp,
	  PRIMARY KEY(serial_number, authority_key_identifier),
	  FOREIGN KEY(serial_number, authority_key_identifier)
	    REFERENCES certificates(serial_number, authority_key_identifier)
	);
	EOF
}

# cfssl_start LABEL db|nodb: with db, its SQLite certdb, set to
# journal_mode=WAL and synchronous=FULL through the driver's DSN as
# keyrited's store is (ca/store.c), so that both make every certificate
# durable before answering.
cfssl_start() {
	local label=$1 d=$work/cfssl port dbargs=()
	if [ "$2" = db ]; then
		sqlite3 "$d/$label.db" <"$d/schema.sql"
		printf '{"driver": "sqlite3", "data_source": "file:%s?%s"}\n' \
		    "$d/$label.db" '_journal_mode=WAL&_synchronous=FULL' \
		    >"$d/$label.json"
		dbargs=(-db-config "$d/$label.json")
	fi
	port=$(free_port)
	cfssl serve -address 127.0.0.1 -port "$port" -ca "$d/ca.pem" \
	    -ca-key "$d/ca-key.pem" -config "$d/config.json" \
	    -tls-cert "$d/tls.pem" -tls-key "$d/tls-key.pem" \
	    "${dbargs[@]+"${dbargs[@]}"}" >"$d/$label.log" 2>&1 &
	started "$label" $! "$port" "$d/$label.log" --server cfssl \
	    --url "https://127.0.0.1:$port" --cacert "$d/tls.pem"
}

# What the certdb holds: every certificate signed, warm-ups included.
cfssl_db_report() {
	local db=$work/cfssl/$1.db
	echo "($1: the certdb holds $(sqlite3 "$db" \
		'SELECT count(*) FROM certificates') certificates;" \
		"journal_mode $(sqlite3 "$db" 'PRAGMA journal_mode'))"
}

# ------------------------------------------------------------- keyrited
#
# keyrited is set up as docs/signer.md says: a SoftHSM2 root signs the
# intermediate `keyrited init` made, then install, a provisioner, serve.

# A root on a throwaway SoftHSM2 token, as scripts/demo.sh makes one,
# constrained to lab.internal (the bench's names) and 127.0.0.0/8 (the
# API's serving certificate), and a second token for keyrited-hsm's key.
keyrited_root_setup() {
	local d=$work/kd p
	mkdir -p "$d/hsm/tokens" "$d/pins" "$d/roothome"
	chmod 700 "$d/pins"
	cat >"$d/hsm/softhsm2.conf" <<-EOF
	directories.tokendir = $d/hsm/tokens
	objectstore.backend = file
	log.level = ERROR
	EOF
	export SOFTHSM2_CONF=$d/hsm/softhsm2.conf
	export KEYRITE_HOME=$d/roothome
	for p in root-so root-user int-so int-user; do
		(umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' \
		    >"$d/pins/$p.pin")
	done
	"$keyrite" hsm init-token --label bench-root \
	    --so-pin-file "$d/pins/root-so.pin" \
	    --pin-file "$d/pins/root-user.pin" >/dev/null
	"$keyrite" hsm keygen --token 'pkcs11:token=bench-root' \
	    --pin-file "$d/pins/root-user.pin" --label root --type ec-p384 \
	    >/dev/null
	"$keyrite" root init --key 'pkcs11:token=bench-root;object=root' \
	    --pin-file "$d/pins/root-user.pin" --subject 'CN=Bench Root' \
	    --days 60 --permitted-dns lab.internal \
	    --permitted-ip 127.0.0.0/8 --out "$d/root.pem" >/dev/null
	"$keyrite" hsm init-token --label bench-issuing \
	    --so-pin-file "$d/pins/int-so.pin" \
	    --pin-file "$d/pins/int-user.pin" >/dev/null
}

# keyrited_setup HOME PUBPORT [TOKEN-URI PIN-FILE]: an issuing CA in
# HOME, its key in a file or (with a token) in SoftHSM2, signed by the
# bench root, and the provisioner file HOME.provisioner.
keyrited_setup() {
	local home=$1 pub=$2 d=$work/kd tokargs=()
	if [ $# -ge 4 ]; then
		tokargs=(--token "$3" --pin-file "$4")
	fi
	"$keyrited" init --home "$home" --subject 'CN=Bench Issuing CA' \
	    --public-url "http://127.0.0.1:$pub" \
	    "${tokargs[@]+"${tokargs[@]}"}" >/dev/null
	# The intermediate lives 30 days, inside the root's 60.
	"$keyrite" root sign --key 'pkcs11:token=bench-root;object=root' \
	    --pin-file "$d/pins/root-user.pin" --ca "$d/root.pem" \
	    --csr "$home/intermediate.csr" --profile intermediate --days 30 \
	    --out "$home.int.pem" >/dev/null
	"$keyrited" install --home "$home" --cert "$home.int.pem" \
	    --root "$d/root.pem" >/dev/null
	"$keyrited" provisioner add --home "$home" --name bench \
	    --allow '*.bench.lab.internal' --out "$home.provisioner" >/dev/null
	chmod 600 "$home.provisioner"
}

# keyrited_start LABEL HOME PUBPORT.  The client trusts the API through
# the root, as docs/api.md says clients do; the token audience is
# https://127.0.0.1:PORT, which the daemon accepts as https://LISTEN.
keyrited_start() {
	local label=$1 home=$2 pub=$3 bin=${4:-$keyrited} port
	port=$(free_port)
	# serve stays in the foreground, so the pid is the daemon's and its
	# signer processes are its children for the RSS sum; its serving
	# certificate names the listen address, 127.0.0.1.
	"$bin" serve --home "$home" --listen "127.0.0.1:$port" \
	    --publish "127.0.0.1:$pub" >"$home.log" 2>&1 &
	started "$label" $! "$port" "$home.log" --server keyrited \
	    --url "https://127.0.0.1:$port" --cacert "$work/kd/root.pem" \
	    --provisioner "$home.provisioner"
}

# keyrited with its key in a file (like for like with cfssl's file key).
keyrited_file() {
	local pub
	pub=$(free_port)
	keyrited_setup "$work/kd/file" "$pub"
	keyrited_start keyrited "$work/kd/file" "$pub"
}

# KEYRITE_SIGNER_BASELINE's keyrited, with its key in a file.
keyrited_base() {
	local pub
	pub=$(free_port)
	keyrited_setup "$work/kd/base" "$pub"
	keyrited_start keyrited-base "$work/kd/base" "$pub" \
	    "$KEYRITE_SIGNER_BASELINE"
}

# keyrited with its key in SoftHSM2 (the token made by the root setup).
keyrited_hsm() {
	local pub
	pub=$(free_port)
	keyrited_setup "$work/kd/hsm" "$pub" \
	    'pkcs11:token=bench-issuing;object=issuing' \
	    "$work/kd/pins/int-user.pin"
	keyrited_start keyrited-hsm "$work/kd/hsm" "$pub"
}

# ----------------------------------------------------------------- run

echo "== signer: keyrited against cfssl $(cfssl version 2>/dev/null |
	awk '/^Version/ { print $2 }'), P-256 CSRs over HTTPS"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$threads client threads; $secs s a server in $rounds slices"
: >"$results"
# wanted LABEL: is the row in KEYRITE_SIGNER_ONLY (or is that unset)?
wanted() {
	[ -z "${KEYRITE_SIGNER_ONLY:-}" ] ||
	    [[ " $KEYRITE_SIGNER_ONLY " == *" $1 "* ]]
}
if wanted cfssl || wanted cfssl-nodb; then
	cfssl_setup
	! wanted cfssl || cfssl_start cfssl db
	! wanted cfssl-nodb || cfssl_start cfssl-nodb nodb
fi
have_keyrited=0
if [ -x "$keyrited" ]; then
	have_keyrited=1
	keyrited_root_setup
	! wanted keyrited || keyrited_file
	if [ -n "${KEYRITE_SIGNER_BASELINE:-}" ]; then
		[ -x "$KEYRITE_SIGNER_BASELINE" ] || { echo "bench/signer.sh:" \
		    "KEYRITE_SIGNER_BASELINE: $KEYRITE_SIGNER_BASELINE is not" \
		    "a program" >&2; exit 2; }
		keyrited_base
	fi
	! wanted keyrited-hsm || keyrited_hsm
else
	echo "(keyrited: $keyrited not built yet; skipped)"
fi

for r in $(seq "$rounds"); do
	order=("${labels[@]}")
	if [ $((r % 2)) -eq 0 ]; then
		order=()
		for ((i = ${#labels[@]} - 1; i >= 0; i--)); do
			order+=("${labels[$i]}")
		done
	fi
	for l in "${order[@]}"; do
		slice "$l" "$r"
	done
done
for l in "${labels[@]}"; do
	stop_server "$l"
done
! wanted cfssl || cfssl_db_report cfssl

speed=$(openssl speed -seconds 2 ecdsap256 2>/dev/null)
# " 256 bits ecdsa (nistp256)   0.0000s   0.0000s  55002.1  20336.5"
p256=$(awk '/ecdsa \(nistp256\)/ { print $(NF-1) }' <<<"$speed")
[ -n "$p256" ] || { echo "bench/signer.sh: cannot read openssl speed's" \
	"output:" >&2; echo "$speed" >&2; exit 1; }

# The slices of each server pooled: certs/s is all its certificates over
# all its timed seconds, p50/p99 are over all its latencies.
summary=$work/summary
for l in "${labels[@]}"; do
	sort -n "$work"/lat."$l".* 2>/dev/null >"$work/lat.$l" || true
	awk -v l="$l" -v rss="${rss_of[$l]}" -v latf="$work/lat.$l" '
	function get(k,   i) { for (i = 2; i < NF; i += 2) if ($i == k)
		return $(i + 1); return "" }
	function pct(p,   k) { k = int(p * nlat); if (k < p * nlat || k < 1)
		k++; return nlat ? lat[k] : 0 }
	$1 == l { n += get("n"); f += get("failed"); s += get("secs")
		cpu += get("server_cpu_s"); all += get("n") + get("warmup_n") }
	END {
		while ((getline v <latf) > 0)
			lat[++nlat] = v
		printf "%s certs/s %.1f p50_ms %.2f p99_ms %.2f n %d " \
		    "failed %d secs %.2f rss_kib %d cpu_ms %.2f\n", l,
		    (s > 0 ? (n - f) / s : 0), pct(0.50), pct(0.99), n, f, s,
		    rss, (all > 0 ? 1000 * cpu / all : 0)
	}' "$results"
done >"$summary"

echo
awk -v speed="$p256" '
function get(k,   i) { for (i = 2; i < NF; i += 2) if ($i == k)
	return $(i + 1); return "" }
BEGIN { printf "%-14s %9s %8s %8s %9s %8s %7s %9s %7s\n", "server",
	"certs/s", "p50_ms", "p99_ms", "rss_MiB", "n", "failed", "of_speed",
	"cpu_ms" }
{ printf "%-14s %9s %8s %8s %9.1f %8s %7s %9.4f %7s%s\n", $1,
	get("certs/s"), get("p50_ms"), get("p99_ms"), get("rss_kib") / 1024,
	get("n"), get("failed"), get("certs/s") / speed, get("cpu_ms"),
	(get("failed") > 0 ? "  FAILED" : "") }
' "$summary"
echo "openssl speed -seconds 2 ecdsap256: $p256 sign/s (of_speed is" \
	"certs/s over this)"

# ratio A B: A's certs/s over B's, or n/a with the reason.
ratio() {
	awk -v a="$1" -v b="$2" '
	function get(k,   i) { for (i = 2; i < NF; i += 2) if ($i == k)
		return $(i + 1); return "" }
	$1 == a { ra = get("certs/s"); fa = get("failed") }
	$1 == b { rb = get("certs/s"); fb = get("failed") }
	END {
		if (ra == "" || rb == "") print "n/a (no figure)"
		else if (fa > 0 || fb > 0) print "n/a (a run had failures)"
		else if (rb == 0) print "n/a"
		else printf "%.2f\n", ra / rb
	}' "$summary"
}
echo "ratio cfssl/cfssl-nodb: $(ratio cfssl cfssl-nodb)"
if [ "$have_keyrited" -eq 1 ]; then
	echo "ratio keyrited-hsm/cfssl: $(ratio keyrited-hsm cfssl)"
	echo "ratio keyrited/cfssl: $(ratio keyrited cfssl)"
else
	echo "ratio keyrited/cfssl: n/a (keyrited not built)"
fi
exit "$status"
