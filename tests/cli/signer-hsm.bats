#!/usr/bin/env bats
# keyrited with its intermediate key inside a SoftHSM2 token: the
# signer processes log in from the PIN file, issue, survive the loss of
# one of them (the daemon starts another), and leave nothing running
# after SIGTERM.  The key never exists in a file.

load helpers

# A port on 127.0.0.1 that nothing answers on, from $1 up.
hsm_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

setup_file() {
	file_setup
	token_setup lab
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file "$W/user.pin" \
	    --label root --type ec-p256 >/dev/null
	keyrite root init --key 'pkcs11:token=lab;object=root' \
	    --pin-file "$W/user.pin" --subject 'CN=HSM Test Root' --days 30 \
	    --permitted-dns lab.internal --permitted-ip 127.0.0.1/32 \
	    --out "$W/root.pem" >/dev/null
	API=$(hsm_port $((20000 + RANDOM % 20000)))
	PUB=$(hsm_port $((API + 1)))
	export API PUB
	keyrited init --home "$W/kd" --subject 'CN=HSM Test Online CA' \
	    --public-url "http://127.0.0.1:$PUB" --api-url "https://127.0.0.1:$API" \
	    --listen "127.0.0.1:$API" --publish "127.0.0.1:$PUB" \
	    --token 'pkcs11:token=lab;object=online' --pin-file "$W/user.pin" \
	    >"$W/init.out"
	keyrite root sign --key 'pkcs11:token=lab;object=root' \
	    --pin-file "$W/user.pin" --ca "$W/root.pem" \
	    --csr "$W/kd/intermediate.csr" --profile intermediate --days 20 \
	    --out "$W/int.pem" >/dev/null
	keyrited install --home "$W/kd" --cert "$W/int.pem" --root "$W/root.pem" \
	    >/dev/null
	keyrited provisioner add --home "$W/kd" --name web \
	    --allow '*.web.lab.internal' --out "$W/web.provisioner" >/dev/null
	keyrited serve --home "$W/kd" 2>"$W/serve.log" &
	echo $! >"$W/pid"
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$PUB/healthz" >/dev/null && return 0
		sleep 0.1
	done
	cat "$W/serve.log" >&2
	return 1
}

teardown_file() {
	[ -f "$W/pid" ] && kill "$(cat "$W/pid")" 2>/dev/null || true
}

request() {
	rm -rf "$W/$1"
	keyrite cert request --server "https://127.0.0.1:$API" --root "$W/root.pem" \
	    --provisioner "$W/web.provisioner" --name "$1.web.lab.internal" \
	    --out "$W/$1"
}

@test "init made the key inside the token and no key file" {
	[[ "$(cat "$W/init.out")" == *"generated ec-p256 key 'online' in token 'lab' (not extractable)"* ]]
	[ ! -e "$W/kd/intermediate.key" ]
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file "$W/user.pin"
	expect 0 "online"
	grep -q 'key_token: "pkcs11:token=lab;object=online"' "$W/kd/keyrited.yaml"
}

@test "a leaf signed by the token key verifies against the root" {
	run request a
	expect 0 "serial"
	run openssl verify -x509_strict -CAfile "$W/root.pem" \
	    -untrusted "$W/a/chain.pem" "$W/a/cert.pem"
	expect 0 "OK"
}

@test "a signer killed with SIGKILL is replaced, and issuing goes on" {
	local pid kids kid
	pid=$(cat "$W/pid")
	kids=$(pgrep -P "$pid" | sort)
	[ "$(echo "$kids" | wc -l)" -eq 2 ]
	kid=$(echo "$kids" | head -1)
	kill -9 "$kid"
	# Requests keep being answered while it is away and after.
	for n in b c d; do
		run request "$n"
		expect 0 "serial"
	done
	for _ in $(seq 50); do
		[ "$(pgrep -P "$pid" | wc -l)" -eq 2 ] && ! pgrep -P "$pid" | grep -qx "$kid" && break
		sleep 0.1
	done
	[ "$(pgrep -P "$pid" | wc -l)" -eq 2 ]
	run bash -c "pgrep -P $pid | grep -qx $kid"
	[ "$status" -ne 0 ]
	grep -q 'restarted' "$W/serve.log"
}

@test "a signer that dies while idle is replaced without waiting for a request" {
	local pid kid
	pid=$(cat "$W/pid")
	kid=$(pgrep -P "$pid" | head -1)
	kill -9 "$kid"
	for _ in $(seq 50); do
		[ "$(pgrep -P "$pid" | wc -l)" -eq 2 ] &&
		    ! pgrep -P "$pid" | grep -qx "$kid" && break
		sleep 0.1
	done
	run bash -c "pgrep -P $pid | grep -qx $kid"
	[ "$status" -ne 0 ]
	[ "$(pgrep -P "$pid" | wc -l)" -eq 2 ]
	grep -q "pid $kid) exited" "$W/serve.log"
	run curl -s "http://127.0.0.1:$PUB/metrics"
	expect 0 "keyrited_signers_up 2"
}

@test "the signer processes hold the key; the front has no token session" {
	local pid kid
	pid=$(cat "$W/pid")
	# Only the signers loaded the PKCS#11 module.
	run grep -q softhsm "/proc/$pid/maps"
	[ "$status" -ne 0 ]
	for kid in $(pgrep -P "$pid"); do
		grep -q softhsm "/proc/$kid/maps"
	done
}

@test "a signer signs only reserved certificates and this intermediate's CRLs" {
	local probe="$KEYRITE_BIN/../tools/signer_probe"
	# A v1 certificate with serial 1 begins as a v2 CRL does.
	run "$probe" "$KEYRITE_BIN/keyrited" "$W/kd" v1-serial-1
	expect 0 "refused: not a TBSCertList"
	run "$probe" "$KEYRITE_BIN/keyrited" "$W/kd" v3-unreserved
	expect 0 "is not reserved"
	run "$probe" "$KEYRITE_BIN/keyrited" "$W/kd" crl-other
	expect 0 "refused: the issuer is not this intermediate"
	# The control: a CRL of this intermediate is signed.
	run "$probe" "$KEYRITE_BIN/keyrited" "$W/kd" crl
	expect 0 "signed"
}

@test "a second serve on the same home is refused" {
	run keyrited serve --home "$W/kd" --listen "127.0.0.1:$(hsm_port 41000)" \
	    --publish "127.0.0.1:$(hsm_port 42000)"
	expect 1 "another keyrited serve runs on this home"
	# The running one is unharmed.
	run curl -sf "http://127.0.0.1:$PUB/healthz"
	expect 0 "ok"
}

@test "SIGTERM stops the daemon and its signers; a revocation just before is published" {
	local pid kids serial
	pid=$(cat "$W/pid")
	kids=$(pgrep -P "$pid")
	run request last
	expect 0 "serial"
	serial=$(openssl x509 -in "$W/last/cert.pem" -noout -serial | cut -d= -f2)
	run keyrite cert revoke --server "https://127.0.0.1:$API" \
	    --root "$W/root.pem" --dir "$W/last"
	expect 0 "revoked"
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$pid"
	[ "$status" -ne 0 ]
	for k in $kids; do
		run kill -0 "$k"
		[ "$status" -ne 0 ]
	done
	grep -q 'draining' "$W/serve.log"
	rm -f "$W/pid"
	# The CRL written on the way out lists the revocation.
	openssl crl -in "$W/kd/publish/crl/intermediate.pem" -noout -text |
	    grep -qi "$serial"
}
