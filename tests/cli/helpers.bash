# helpers.bash: shared setup for keyrite's bats tests.  Each test file
# gets a throwaway SoftHSM2 token directory, its own KEYRITE_HOME, and PIN
# files; nothing outside $BATS_FILE_TMPDIR is touched.

: "${KEYRITE_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${KEYRITE_BIN:=$KEYRITE_TOP/build/bin}"
: "${KEYRITE_PROFILE_DIR:=$KEYRITE_TOP/profiles}"
export KEYRITE_TOP KEYRITE_BIN KEYRITE_PROFILE_DIR
export PATH="$KEYRITE_BIN:$PATH"

# Make a SoftHSM2 config in $1 and point SOFTHSM2_CONF at it.
softhsm_setup() {
	local dir=$1
	mkdir -p "$dir/tokens"
	cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
	export SOFTHSM2_CONF="$dir/softhsm2.conf"
}

# A token labelled $1 with PIN files so.pin and user.pin in $W.
token_setup() {
	local label=$1
	printf 'so-%s-0123456789\n' "$label" >"$W/so.pin"
	printf 'user-%s-0123456789\n' "$label" >"$W/user.pin"
	keyrite hsm init-token --label "$label" --so-pin-file "$W/so.pin" \
	    --pin-file "$W/user.pin" >/dev/null
}

# Per-file setup: $W is the work directory for the whole file.
file_setup() {
	export W="$BATS_FILE_TMPDIR"
	softhsm_setup "$W/hsm"
	export KEYRITE_HOME="$W/home"
	cd "$W"
}

# Assert the last `run` exited with $1 and its output contains $2.
expect() {
	local want=$1 text=${2:-}
	if [ "$status" -ne "$want" ]; then
		echo "expected exit $want, got $status; output:"
		echo "$output"
		return 1
	fi
	if [ -n "$text" ] && [[ "$output" != *"$text"* ]]; then
		echo "output lacks '$text':"
		echo "$output"
		return 1
	fi
}

# Make an EC P-256 key and CSR with openssl: csr NAME SUBJECT [SAN]
csr() {
	local name=$1 subj=$2 san=${3:-}
	local ext=()
	[ -n "$san" ] && ext=(-addext "subjectAltName=$san")
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$name.key" -subj "$subj" "${ext[@]}" -out "$name.csr" \
	    2>/dev/null
}

# ---- keyrited, the online signer ----------------------------------------
# KEYRITE_BIN is the directory with keyrite and keyrited; a path to the
# keyrite binary itself is taken to mean its directory.
if [ -f "$KEYRITE_BIN" ]; then
	KEYRITE_BIN=$(dirname "$KEYRITE_BIN")
	export PATH="$KEYRITE_BIN:$PATH"
fi

# A TCP port on 127.0.0.1 that no socket uses now, chosen at random below
# the kernel's ephemeral range (so no outgoing connection takes it
# before the daemon binds it).  kd_start tries again when it is taken.
free_port() {
	local lo=32768 hi p i
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$lo" -gt 12000 ] || lo=32768
	for ((i = 0; i < 100; i++)); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		if command -v ss >/dev/null 2>&1; then
			[ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] || continue
		elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		echo "$p"
		return 0
	done
	return 1
}

# A SoftHSM root (name constraints: lab.internal, 10.0.0.0/8 and
# 127.0.0.1/32, so the daemon's serving certificate for 127.0.0.1 is
# inside them), its CRL, and a keyrited home $KD whose intermediate it
# signed, installed with the root's CRL.  Files in $W: root.pem,
# root.crl, int.pem, user.pin.
kd_ca_setup() {
	local key='pkcs11:token=lab;object=root'
	token_setup lab
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file "$W/user.pin" \
	    --label root --type ec-p256 >/dev/null
	keyrite root init --key "$key" --pin-file "$W/user.pin" \
	    --subject 'CN=Test Root' --days 3650 --permitted-dns lab.internal \
	    --permitted-ip 10.0.0.0/8 --permitted-ip 127.0.0.1/32 \
	    --out "$W/root.pem" >/dev/null
	export KD="$W/kd" KD_LOG="$W/kd.log"
	# public_url is set to the publication port at each kd_start.
	keyrited init --home "$KD" --subject 'CN=Test Issuing CA' \
	    --public-url http://127.0.0.1:9 >/dev/null
	keyrite root sign --key "$key" --pin-file "$W/user.pin" \
	    --ca "$W/root.pem" --csr "$KD/intermediate.csr" \
	    --profile intermediate --days 365 --out "$W/int.pem" >/dev/null
	keyrite root crl --key "$key" --pin-file "$W/user.pin" \
	    --ca "$W/root.pem" --out "$W/root.crl" >/dev/null
	keyrited install --home "$KD" --cert "$W/int.pem" --root "$W/root.pem" \
	    --root-crl "$W/root.crl" >/dev/null
}

# kd_prov NAME [provisioner add options]: a provisioner of $KD whose file
# is $W/NAME.provisioner.
kd_prov() {
	local name=$1
	shift
	keyrited provisioner add --home "$KD" --name "$name" \
	    --out "$W/$name.provisioner" "$@" >/dev/null
}

# Is process $1 gone (or a zombie nobody reaped yet)?
pid_gone() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# Wait (at most $1 seconds, default 15) until the daemon $KD_PID says it
# serves and $KD_PUB/healthz says ok.
kd_wait_healthy() {
	local i n=$(( ${1:-15} * 10 ))
	for ((i = 0; i < n; i++)); do
		pid_gone "$KD_PID" && return 1
		if grep -q "(pid $KD_PID)\$" "$KD_LOG" &&
		    [ "$(curl -s --max-time 2 "$KD_PUB/healthz")" = ok ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# SIGHUP the daemon and wait until it says it reloaded.
kd_hup() {
	local i n
	n=$(grep -c 'SIGHUP' "$KD_LOG" || true)
	kill -HUP "$KD_PID"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'SIGHUP' "$KD_LOG" || true)" -gt "$n" ] && return 0
		sleep 0.1
	done
	echo "keyrited did not answer SIGHUP"
	return 1
}

# kd_start [--same]: run `keyrited serve` on $KD in the background on
# fresh ports (with --same, the ports of the last start), logging to
# $KD_LOG; wait until /healthz answers.  Sets KD_PID, KD_API (the API's
# URL and the tokens' audience) and KD_PUB (publication).  public_url in
# the config follows the publication port, so the leaves' CDP and AIA
# URLs point at this daemon.
kd_start() {
	local try
	for try in 1 2 3 4 5; do
		if [ "${1:-}" != --same ] || [ -z "${KD_API_PORT:-}" ]; then
			KD_API_PORT=$(free_port)
			KD_PUB_PORT=$(free_port)
			while [ "$KD_PUB_PORT" = "$KD_API_PORT" ]; do
				KD_PUB_PORT=$(free_port)
			done
		fi
		export KD_API_PORT KD_PUB_PORT
		export KD_API="https://127.0.0.1:$KD_API_PORT"
		export KD_PUB="http://127.0.0.1:$KD_PUB_PORT"
		sed -i "s#^public_url:.*#public_url: \"$KD_PUB\"#" \
		    "$KD/keyrited.yaml"
		echo "--- kd_start $(date +%T.%N)" >>"$KD_LOG"
		keyrited serve --home "$KD" --listen "127.0.0.1:$KD_API_PORT" \
		    --publish "127.0.0.1:$KD_PUB_PORT" >>"$KD_LOG" 2>&1 3>&- &
		KD_PID=$!
		export KD_PID
		kd_wait_healthy 15 && return 0
		if pid_gone "$KD_PID" && [ "${1:-}" != --same ] &&
		    tail -3 "$KD_LOG" | grep -q 'Address already in use'; then
			wait "$KD_PID" 2>/dev/null || true
			continue	# someone took the port: new ones
		fi
		break
	done
	echo "keyrited did not start; its log:"
	cat "$KD_LOG"
	kill -9 "$KD_PID" 2>/dev/null || true
	return 1
}

# kd_stop: SIGTERM the daemon and wait (at most 40 s, then SIGKILL).
# Returns its exit status.
kd_stop() {
	local i st=0
	[ -n "${KD_PID:-}" ] || return 0
	kill -TERM "$KD_PID" 2>/dev/null || true
	for ((i = 0; i < 400; i++)); do
		pid_gone "$KD_PID" && break
		sleep 0.1
	done
	pid_gone "$KD_PID" || kill -9 "$KD_PID" 2>/dev/null || true
	wait "$KD_PID" 2>/dev/null || st=$?
	KD_PID=
	return "$st"
}

# How many certificates the store lists (valid and revoked; with --all,
# also pending and abandoned reservations).
kd_count() {
	keyrited certs --home "$KD" --json "$@" | jq length
}

# kd_token PROVISIONER NAME [token create options]: a token for $KD_API.
kd_token() {
	local prov=$1
	shift
	keyrite token create --provisioner "$W/$prov.provisioner" \
	    --server "$KD_API" --name "$@"
}

# kd_sign_body CSR TOKEN [LIFETIME]: a /v1/sign body on stdout.
kd_sign_body() {
	if [ -n "${3:-}" ]; then
		jq -n --rawfile csr "$1" --arg token "$2" --arg life "$3" \
		    '{csr: $csr, token: $token, lifetime: $life}'
	else
		jq -n --rawfile csr "$1" --arg token "$2" \
		    '{csr: $csr, token: $token}'
	fi
}

# kd_post PATH FILE [curl options]: POST the JSON in FILE to the API
# (with KD_CTYPE set, as that Content-Type instead).  Sets code (the
# HTTP status, 000 when curl failed), body and err (the body's "error",
# or empty).
kd_post() {
	local path=$1 file=$2 out
	shift 2
	out=$(curl -s --max-time 30 --cacert "$W/root.pem" \
	    -H "Content-Type: ${KD_CTYPE:-application/json}" \
	    --data-binary "@$file" -w '\n%{http_code}' "$@" \
	    "$KD_API$path") || true
	code=${out##*$'\n'}
	body=${out%$'\n'*}
	[ "$body" != "$out" ] || body=
	err=$(jq -r '.error // empty' <<<"$body" 2>/dev/null) || err=
}

# expect_api STATUS [CODE]: the last kd_post's status and error code.
expect_api() {
	if [ "$code" != "$1" ] || [ "$err" != "${2:-}" ]; then
		echo "expected HTTP $1 ${2:-(no error)}, got $code '$err':"
		echo "$body"
		return 1
	fi
}

# kd_issue NAME [PROVISIONER [LIFETIME]]: key NAME.key, CSR NAME.csr
# (CN=NAME), and from the API NAME.pem, NAME.chain, NAME.json, in the
# current directory.
kd_issue() {
	local name=$1 prov=${2:-web} tok
	csr "$name" "/CN=$name" || return 1
	tok=$(kd_token "$prov" "$name") || return 1
	kd_sign_body "$name.csr" "$tok" "${3:-}" >"$name.req"
	kd_post /v1/sign "$name.req"
	expect_api 201 || return 1
	printf '%s\n' "$body" >"$name.json"
	jq -j .certificate "$name.json" >"$name.pem"
	jq -j .chain "$name.json" >"$name.chain"
}

# The serial of certificate $1 in lower-case hex, as the API writes it.
cert_serial() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}

# The CRL number (decimal) of the DER CRL $1.
crl_number() {
	local n
	n=$(openssl crl -inform DER -in "$1" -noout -crlnumber) || return 1
	n=${n#crlNumber=}
	n=${n#0x}
	echo $((16#$n))
}

# The NSS database keyrite-trust writes under --root-dir for a user whose
# HOME is /home/tester (apply with HOME=/home/tester).
KT_NSSDB=/home/tester/.pki/nssdb

# kt_validates R LEAF INT: does every store keyrite-trust keeps under
# --root-dir R validate LEAF through the intermediate INT (a PEM file
# of one or more CA certificates)?  The system
# store's ca-certificates.crt (OpenSSL), the PEM store (GnuTLS), the NSS
# database of $KT_NSSDB (vfychain), and the Java keystore when there is
# one (its certificates, by OpenSSL).  One line per validator; exit 0
# only if all say yes.
kt_validates() {
	local r=$1 leaf=$2 int=$3 bad=0 tmp
	tmp=$(mktemp -d)
	openssl verify -x509_strict -purpose sslserver \
	    -CAfile "$r/etc/ssl/certs/ca-certificates.crt" \
	    -untrusted "$int" "$leaf" || bad=1
	cat "$leaf" "$int" >"$tmp/chain.pem"
	certtool --verify --load-ca-certificate "$r/etc/keyrite/trust.pem" \
	    --infile "$tmp/chain.pem" >"$tmp/certtool.out" 2>&1 &&
	    grep -q 'Chain verification output: Verified' "$tmp/certtool.out" ||
	    { cat "$tmp/certtool.out"; bad=1; }
	# vfychain reads one certificate per file.
	awk -v d="$tmp" '/BEGIN CERT/ { n++ } { print > (d "/int" n ".pem") }' "$int"
	vfychain -d "sql:$r$KT_NSSDB" -pp -u 1 -a "$leaf" \
	    $(for c in "$tmp"/int*.pem; do printf -- '-a %s ' "$c"; done) 2>&1 |
	    grep 'Chain is good' || bad=1
	if [ -f "$r/etc/ssl/certs/java/cacerts" ]; then
		keytool -J-Duser.language=en -list -rfc \
		    -keystore "$r/etc/ssl/certs/java/cacerts" \
		    -storepass changeit >"$tmp/java.pem"
		openssl verify -x509_strict -CAfile "$tmp/java.pem" \
		    -untrusted "$int" "$leaf" || bad=1
	fi
	rm -rf "$tmp"
	return $bad
}

# The seconds from notBefore to notAfter of certificate $1.
lifetime_of() {
	local nb na
	nb=$(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
	echo $((na - nb))
}
