#!/usr/bin/env bats
# keyrited with its intermediate key in a SoftHSM2 token, and the token
# failing under it: SoftHSM2's file store reads its object files again
# on use, so moving the token's directory (or the key's object files)
# away makes the next C_SignInit fail for real (CKR_OBJECT_HANDLE_INVALID
# in Debian 12's SoftHSM2).  The signer reopens the token, the request
# is answered 503 unavailable while the token stays gone, and once the
# files are back the same signer process opens the token again and
# issues, without a restart.  One signer, so every request meets it.

load helpers

setup_file() {
	file_setup
	token_setup lab
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file "$W/user.pin" \
	    --label root --type ec-p256 >/dev/null
	keyrite root init --key 'pkcs11:token=lab;object=root' \
	    --pin-file "$W/user.pin" --subject 'CN=Token Test Root' \
	    --days 30 --permitted-dns lab.internal \
	    --permitted-ip 127.0.0.1/32 --out "$W/root.pem" >/dev/null
	export KD="$W/kd" KD_LOG="$W/kd.log"
	keyrited init --home "$KD" --subject 'CN=Token Test Online CA' \
	    --public-url http://127.0.0.1:9 \
	    --token 'pkcs11:token=lab;object=online' \
	    --pin-file "$W/user.pin" >/dev/null
	keyrite root sign --key 'pkcs11:token=lab;object=root' \
	    --pin-file "$W/user.pin" --ca "$W/root.pem" \
	    --csr "$KD/intermediate.csr" --profile intermediate --days 20 \
	    --out "$W/int.pem" >/dev/null
	keyrited install --home "$KD" --cert "$W/int.pem" \
	    --root "$W/root.pem" >/dev/null
	sed -i 's/^signers:.*/signers: 1/' "$KD/keyrited.yaml"
	kd_prov web --allow '*.web.lab.internal'
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	kd_start
}

teardown() {
	# Whatever a test took away from the token comes back.
	if [ -d "$W/away" ]; then
		if [ -d "$W/away/tokendir" ]; then
			mv "$W/away/tokendir" "$TOKDIR"
		else
			mv "$W/away"/*.object "$TOKDIR"/
		fi
		rmdir "$W/away"
	fi
	kd_stop || true
}

# The token's directory in SoftHSM2's store (there is one token).
tokdir() {
	local d
	d=$(echo "$W"/hsm/tokens/*/)
	echo "${d%/}"
}

# The one signer process of the daemon.
signer_pid() {
	pgrep -P "$KD_PID"
}

# sign_req NAME: /v1/sign for NAME.web.lab.internal (key and CSR in the
# current directory); kd_post's code, body and err are set.
sign_req() {
	local tok
	[ -f "$1.csr" ] || csr "$1" "/CN=$1.web.lab.internal"
	tok=$(kd_token web "$1.web.lab.internal")
	kd_sign_body "$1.csr" "$tok" >"$1.req"
	kd_post /v1/sign "$1.req"
}

@test "the token directory taken away: 503 unavailable, 'reopening the token'; put back, the same signer issues again" {
	local kid n0
	TOKDIR=$(tokdir)
	export TOKDIR
	kid=$(signer_pid)
	[ "$(echo "$kid" | wc -w)" -eq 1 ]
	# Control: the token key signs.
	kd_issue before.web.lab.internal
	n0=$(grep -c 'reopening the token' "$KD_LOG" || true)

	mkdir "$W/away"
	mv "$TOKDIR" "$W/away/tokendir"
	sign_req gone1
	expect_api 503 unavailable
	[[ "$body" == *"the token is unavailable"* ]] || { echo "$body"; false; }
	grep -q 'C_SignInit failed: CKR_OBJECT_HANDLE_INVALID.*; reopening the token' "$KD_LOG"
	[ "$(grep -c 'reopening the token' "$KD_LOG")" -eq $((n0 + 1)) ]
	# Still gone: refused again by the same signer, which did not die.
	sign_req gone2
	expect_api 503 unavailable
	[ "$(signer_pid)" = "$kid" ]

	mv "$W/away/tokendir" "$TOKDIR"
	rmdir "$W/away"
	kd_issue after.web.lab.internal
	run openssl verify -x509_strict -CAfile "$W/root.pem" \
	    -untrusted after.web.lab.internal.chain after.web.lab.internal.pem
	expect 0 "OK"
	grep -q 'keyrited signer: token reopened' "$KD_LOG"
	# Neither the signer nor the daemon was restarted.
	[ "$(signer_pid)" = "$kid" ]
	! grep -q 'restarted' "$KD_LOG"
	kill -0 "$KD_PID"
	# The refused requests left no certificate.
	keyrited certs --home "$KD" --json >certs.json
	jq -e '[.[] | select(.sans | tostring | test("gone"))] | length == 0' certs.json
	jq -e '[.[] | select(.sans | tostring | test("after"))] | length == 1' certs.json
}

@test "the key's object files taken away: 503 'no private key', put back: issued by the same signer" {
	local kid f
	TOKDIR=$(tokdir)
	export TOKDIR
	kid=$(signer_pid)
	kd_issue before2.web.lab.internal
	mkdir "$W/away"
	# Every object but the token's own (the keys, root and online).
	for f in "$TOKDIR"/*.object; do
		[ "$(basename "$f")" = token.object ] || mv "$f" "$W/away/"
	done
	sign_req nokey
	expect_api 503 unavailable
	[[ "$body" == *"has no private key labelled online"* ]] || { echo "$body"; false; }
	mv "$W/away"/*.object "$TOKDIR"/
	rmdir "$W/away"
	kd_issue after2.web.lab.internal
	[ "$(signer_pid)" = "$kid" ]
}
