#!/usr/bin/env bats
# keyrited serve, through its HTTP API (docs/api.md) with curl, jq and
# openssl: issuance and its refusals, renewal, revocation and the CRL,
# malformed requests, SIGHUP and SIGTERM, publication and metrics.
#
# The root, the intermediate and the provisioners are made once per
# file; each test runs its own daemon on fresh ports.  Every refusal is
# checked for its HTTP status, its "error" code, and that the store
# holds no new certificate.

load helpers

setup_file() {
	file_setup
	kd_ca_setup
	# web: the usual one.  other: same names, another provisioner.
	# wide: allows names the root's constraints forbid.
	kd_prov web --allow '*.web.lab.internal' --max-lifetime 72h
	kd_prov other --allow '*.web.lab.internal'
	kd_prov wide --allow '*.example.com' --allow '*.web.lab.internal'
	# A provisioner the daemon does not know: its file stays, its
	# public half is removed from the home.
	kd_prov gone --allow '*.web.lab.internal'
	keyrited provisioner remove --home "$KD" --name gone >/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	kd_start
}

teardown() {
	kd_stop || true
	# A test that changed the shared configuration left the original.
	if [ -f "$BATS_TEST_TMPDIR/keyrited.yaml.orig" ]; then
		cp "$BATS_TEST_TMPDIR/keyrited.yaml.orig" "$KD/keyrited.yaml"
		# Nor may a short-lived serving certificate it made be reused,
		# to be renewed (and counted in the store) in a later test.
		rm -f "$KD/tls/serving.pem"
	fi
}

# The status of serial $1 in the store ("" when it is not listed).
store_status() {
	keyrited certs --home "$KD" --json --all |
	    jq -r --arg s "$1" '.[] | select(.serial == $s) | .status'
}

# A refusal of /v1/sign that leaves the store as it was:
# sign_refused STATUS CODE CSR TOKEN [LIFETIME].
sign_refused() {
	local before all
	before=$(kd_count)
	all=$(kd_count --all)
	kd_sign_body "$3" "$4" "${5:-}" >req.json
	kd_post /v1/sign req.json
	expect_api "$1" "$2"
	[ "$(kd_count)" = "$before" ] && [ "$(kd_count --all)" = "$all" ] || {
		echo "the store grew from $before ($all) to $(kd_count) ($(kd_count --all))"
		return 1
	}
}

# ---------------------------------------------------------------------
# Issuance

@test "sign: 201, the leaf verifies, CDP/AIA at the publication port, 24h, prefixed 19-byte serial" {
	before=$(kd_count)
	csr svc "/CN=svc.web.lab.internal" "DNS:svc.web.lab.internal"
	tok=$(kd_token web svc.web.lab.internal)
	kd_sign_body svc.csr "$tok" >req.json
	kd_post /v1/sign req.json
	expect_api 201
	[ "$(kd_count)" = $((before + 1)) ]
	jq -j .certificate <<<"$body" >svc.pem
	jq -j .chain <<<"$body" >chain.pem
	run openssl verify -x509_strict -CAfile "$W/root.pem" -untrusted chain.pem svc.pem
	expect 0 "svc.pem: OK"
	cmp chain.pem "$W/int.pem"
	# The response describes the certificate.
	serial=$(cert_serial svc.pem)
	[ "$(jq -r .serial <<<"$body")" = "$serial" ]
	[ "$(jq -r .lifetime_capped <<<"$body")" = false ]
	[ "$(jq -r .not_after <<<"$body")" = \
	    "$(date -u -d "$(openssl x509 -in svc.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" ]
	[ "$(store_status "$serial")" = valid ]
	# The same key, the token's names, the default lifetime.
	cmp <(openssl x509 -in svc.pem -noout -pubkey) \
	    <(openssl req -in svc.csr -noout -pubkey)
	run openssl x509 -in svc.pem -noout -ext subjectAltName
	[[ "$output" == *"DNS:svc.web.lab.internal"* ]]
	[ "$(lifetime_of svc.pem)" = 86400 ]
	# 3 bytes of the config's serial_prefix and 16 random ones.
	prefix=$(sed -n 's/^serial_prefix: "\(.*\)"/\1/p' "$KD/keyrited.yaml")
	[ ${#prefix} = 6 ]
	[ ${#serial} = 38 ]
	[ "${serial:0:6}" = "$prefix" ]
	# CDP and AIA point at this daemon's publication listener...
	run openssl x509 -in svc.pem -noout -ext crlDistributionPoints,authorityInfoAccess
	[[ "$output" == *"URI:$KD_PUB/crl/intermediate.crl"* ]]
	[[ "$output" == *"CA Issuers - URI:$KD_PUB/certs/intermediate.der"* ]]
	# ...which serves them.
	curl -sf "$KD_PUB/certs/intermediate.der" -o int.der
	cmp <(openssl x509 -inform DER -in int.der) "$W/int.pem"
	curl -sf "$KD_PUB/crl/intermediate.crl" -o int.crl
	run openssl verify -x509_strict -crl_check -CAfile "$W/root.pem" \
	    -untrusted chain.pem -CRLfile <(openssl crl -inform DER -in int.crl) svc.pem
	expect 0 "svc.pem: OK"
}

@test "sign: a CSR naming nothing gets the token's names, sub first as the CN" {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout bare.key -subj / -out bare.csr 2>/dev/null
	tok=$(kd_token web bare.web.lab.internal --san alt.web.lab.internal)
	kd_sign_body bare.csr "$tok" >req.json
	kd_post /v1/sign req.json
	expect_api 201
	jq -j .certificate <<<"$body" >bare.pem
	run openssl x509 -in bare.pem -noout -subject -ext subjectAltName
	[[ "$output" == *"CN = bare.web.lab.internal"* ]]
	[[ "$output" == *"DNS:bare.web.lab.internal, DNS:alt.web.lab.internal"* ]]
}

@test "sign: a replayed token is refused (401 token_replayed)" {
	kd_issue a.web.lab.internal
	tok=$(jq -r .token a.web.lab.internal.req)
	sign_refused 401 token_replayed a.web.lab.internal.csr "$tok"
	[[ "$body" == *"already used"* ]]
}

@test "sign: a token spent on a refused request stays spent (401 token_replayed)" {
	# Refused before issuance (the CSR's names), then within it (a name
	# the provisioner does not allow): either way the token is burnt
	# and a second try with it, whatever it asks, is a replay.
	csr x "/CN=x.web.lab.internal"
	csr y "/CN=y.web.lab.internal"
	tok=$(kd_token web y.web.lab.internal)
	sign_refused 403 csr_names x.csr "$tok"
	sign_refused 401 token_replayed y.csr "$tok"
	csr d "/CN=x.db.lab.internal"
	tok=$(kd_token web x.db.lab.internal)
	sign_refused 403 name_not_allowed d.csr "$tok"
	sign_refused 401 token_replayed d.csr "$tok"
	# A replayed token is a replay even when its request is bad too.
	sign_refused 401 token_replayed x.csr "$tok"
}

@test "sign: an expired token is refused (401 token_expired)" {
	csr x "/CN=x.web.lab.internal"
	tok=$(KEYRITE_NOW=$(( $(date +%s) - 900 )) kd_token web x.web.lab.internal)
	sign_refused 401 token_expired x.csr "$tok"
}

@test "sign: a token for another name than the CSR's is refused (403 csr_names)" {
	csr x "/CN=x.web.lab.internal"
	tok=$(kd_token web y.web.lab.internal)
	sign_refused 403 csr_names x.csr "$tok"
	[[ "$body" == *"x.web.lab.internal"* ]]
	# A SAN the token does not carry, too.
	csr z "/CN=z.web.lab.internal" "DNS:z.web.lab.internal,DNS:evil.web.lab.internal"
	tok=$(kd_token web z.web.lab.internal)
	sign_refused 403 csr_names z.csr "$tok"
	[[ "$body" == *"evil.web.lab.internal"* ]]
}

@test "sign: a token for another audience is refused (401 token_audience)" {
	csr x "/CN=x.web.lab.internal"
	tok=$(keyrite token create --provisioner "$W/web.provisioner" \
	    --server https://ca.elsewhere.lab.internal:8443 --name x.web.lab.internal)
	sign_refused 401 token_audience x.csr "$tok"
}

@test "sign: a token from a provisioner the daemon does not know is refused (401 token_issuer)" {
	csr x "/CN=x.web.lab.internal"
	tok=$(kd_token gone x.web.lab.internal)
	sign_refused 401 token_issuer x.csr "$tok"
}

@test "sign: a name outside the provisioner's allow list is refused (403 name_not_allowed)" {
	csr x "/CN=x.db.lab.internal"
	tok=$(kd_token web x.db.lab.internal)
	sign_refused 403 name_not_allowed x.csr "$tok"
}

@test "sign: an allowed name outside the chain's constraints is refused (403 name_outside_constraints)" {
	csr x "/CN=www.example.com"
	tok=$(kd_token wide www.example.com)
	sign_refused 403 name_outside_constraints x.csr "$tok"
	# The same provisioner inside the constraints is fine.
	kd_issue w.web.lab.internal wide
}

@test "sign: 1000h from a provisioner capped at 72h gets exactly 72h, lifetime_capped" {
	kd_issue long.web.lab.internal web 1000h
	[ "$(jq -r .lifetime_capped long.web.lab.internal.json)" = true ]
	[ "$(lifetime_of long.web.lab.internal.pem)" = $((72 * 3600)) ]
	# Within the cap: as asked, not capped.
	kd_issue short.web.lab.internal web 90m
	[ "$(jq -r .lifetime_capped short.web.lab.internal.json)" = false ]
	[ "$(lifetime_of short.web.lab.internal.pem)" = 5400 ]
}

@test "sign: a lifetime under the backdate plus 60 s is refused (400 bad_lifetime) before a reservation; the minimum, 6m, is issued" {
	local before tok na
	before=$(kd_count --all)
	csr brief "/CN=brief.web.lab.internal"
	# 2 minutes from a notBefore 5 minutes back: expired at birth.
	tok=$(kd_token web brief.web.lab.internal)
	sign_refused 400 bad_lifetime brief.csr "$tok" 2m
	[[ "$body" == *"lifetime 120 s is too short: the minimum is 360 s"* ]] ||
	    { echo "$body"; false; }
	# One second short of the minimum: valid for 59 s only.
	tok=$(kd_token web brief.web.lab.internal)
	sign_refused 400 bad_lifetime brief.csr "$tok" 359s
	# The minimum: valid a minute (or more) from now.
	kd_issue min.web.lab.internal web 6m
	[ "$(jq -r .lifetime_capped min.web.lab.internal.json)" = false ]
	[ "$(lifetime_of min.web.lab.internal.pem)" = 360 ]
	na=$(date -d "$(openssl x509 -in min.web.lab.internal.pem -noout -enddate | cut -d= -f2)" +%s)
	[ $((na - $(date +%s))) -ge 55 ]
	run openssl verify -x509_strict -CAfile "$W/root.pem" \
	    -untrusted min.web.lab.internal.chain min.web.lab.internal.pem
	expect 0 "OK"
	[ "$(kd_count --all)" = $((before + 1)) ]
	# keyrite cert request passes --lifetime on; the server's answer
	# is what it reports, and it writes nothing.
	run keyrite cert request --server "$KD_API" --root "$W/root.pem" \
	    --provisioner "$W/web.provisioner" --name kb.web.lab.internal \
	    --lifetime 2m --out kb
	expect 1 "bad_lifetime: lifetime 120 s is too short: the minimum is 360 s"
	[[ "$output" == *"(HTTP 400)"* ]]
	[ ! -e kb ]
	# keyrited issue refuses the same, and issues the minimum.
	run keyrited issue --home "$KD" --csr brief.csr --lifetime 2m \
	    --out brief.pem
	expect 1 "refused (bad_lifetime): lifetime 120 s is too short"
	[ ! -e brief.pem ]
	[ "$(kd_count --all)" = $((before + 1)) ]
	run keyrited issue --home "$KD" --csr brief.csr --lifetime 6m \
	    --out brief.pem
	expect 0
	[ "$(lifetime_of brief.pem)" = 360 ]
	[ "$(kd_count --all)" = $((before + 2)) ]
}

@test "sign: a provisioner whose max_lifetime is under the minimum is refused (403 policy), not linted" {
	local before tok
	kd_stop
	kd_prov tiny --allow '*.web.lab.internal' --max-lifetime 5m
	kd_start
	before=$(kd_count --all)
	csr tiny "/CN=tiny.web.lab.internal"
	tok=$(kd_token tiny tiny.web.lab.internal)
	sign_refused 403 policy tiny.csr "$tok"
	[[ "$body" == *"(300 s, by max_lifetime"*"shorter than the minimum 360 s"* ]] ||
	    { echo "$body"; false; }
	[ "$(kd_count --all)" = "$before" ]
}

# ---------------------------------------------------------------------
# Renewal

@test "renew: over mTLS with the current certificate, same key and names" {
	kd_issue r.web.lab.internal
	before=$(kd_count)
	echo '{}' >empty.json
	kd_post /v1/renew empty.json --cert r.web.lab.internal.pem --key r.web.lab.internal.key
	expect_api 201
	[ "$(kd_count)" = $((before + 1)) ]
	jq -j .certificate <<<"$body" >new.pem
	run openssl verify -x509_strict -CAfile "$W/root.pem" -untrusted r.web.lab.internal.chain new.pem
	expect 0 "new.pem: OK"
	[ "$(cert_serial new.pem)" != "$(cert_serial r.web.lab.internal.pem)" ]
	cmp <(openssl x509 -in new.pem -noout -pubkey) \
	    <(openssl x509 -in r.web.lab.internal.pem -noout -pubkey)
	cmp <(openssl x509 -in new.pem -noout -subject -ext subjectAltName) \
	    <(openssl x509 -in r.web.lab.internal.pem -noout -subject -ext subjectAltName)
	[ "$(lifetime_of new.pem)" = 86400 ]
	# The renewed certificate renews in turn, with a lifetime asked for.
	echo '{"lifetime": "2h"}' >life.json
	kd_post /v1/renew life.json --cert new.pem --key r.web.lab.internal.key
	expect_api 201
	jq -j .certificate <<<"$body" >new2.pem
	[ "$(lifetime_of new2.pem)" = 7200 ]
}

@test "renew: without a client certificate (401 client_cert_required)" {
	before=$(kd_count)
	echo '{}' >empty.json
	kd_post /v1/renew empty.json
	expect_api 401 client_cert_required
	[ "$(kd_count)" = "$before" ]
}

@test "renew: with a revoked certificate (403 cert_revoked)" {
	kd_issue rv.web.lab.internal
	echo '{}' >empty.json
	kd_post /v1/revoke empty.json --cert rv.web.lab.internal.pem --key rv.web.lab.internal.key
	expect_api 200
	before=$(kd_count)
	kd_post /v1/renew empty.json --cert rv.web.lab.internal.pem --key rv.web.lab.internal.key
	expect_api 403 cert_revoked
	[ "$(kd_count)" = "$before" ]
}

@test "renew: with a certificate from another CA (401 client_cert_invalid)" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout self.key -subj /CN=s.web.lab.internal -days 1 \
	    -addext subjectAltName=DNS:s.web.lab.internal -out self.pem 2>/dev/null
	before=$(kd_count)
	echo '{}' >empty.json
	kd_post /v1/renew empty.json --cert self.pem --key self.key
	if [ "$code" = 000 ]; then
		# Refused during the handshake: acceptable, if it still serves.
		[ "$(curl -s "$KD_PUB/healthz")" = ok ]
	else
		expect_api 401 client_cert_invalid
	fi
	[ "$(kd_count)" = "$before" ]
	# A certificate with our issuer's name but another CA's signature.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout fake-ca.key -subj '/CN=Test Issuing CA' -days 1 \
	    -out fake-ca.pem 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout forged.key -subj /CN=f.web.lab.internal -out forged.csr 2>/dev/null
	openssl x509 -req -in forged.csr -CA fake-ca.pem -CAkey fake-ca.key \
	    -set_serial 0x$(cert_serial "$W/int.pem") -days 1 -out forged.pem 2>/dev/null
	kd_post /v1/renew empty.json --cert forged.pem --key forged.key
	if [ "$code" != 000 ]; then
		expect_api 401 client_cert_invalid
	fi
	[ "$(kd_count)" = "$before" ]
	[ "$(curl -s "$KD_PUB/healthz")" = ok ]
}

# ---------------------------------------------------------------------
# Revocation

@test "revoke: by the certificate's own key (200); the CRL at its CDP lists it within seconds" {
	kd_issue gone.web.lab.internal
	serial=$(cert_serial gone.web.lab.internal.pem)
	echo '{"reason": "keyCompromise"}' >rev.json
	kd_post /v1/revoke rev.json --cert gone.web.lab.internal.pem --key gone.web.lab.internal.key
	expect_api 200
	[ "$(jq -r .serial <<<"$body")" = "$serial" ]
	[ "$(jq -r .reason <<<"$body")" = keyCompromise ]
	[ "$(store_status "$serial")" = revoked ]
	cdp=$(openssl x509 -in gone.web.lab.internal.pem -noout -ext crlDistributionPoints |
	    sed -n 's/^ *URI://p')
	[ "$cdp" = "$KD_PUB/crl/intermediate.crl" ]
	for i in $(seq 1 50); do
		curl -sf "$cdp" -o crl.der
		openssl crl -inform DER -in crl.der -out crl.pem
		run openssl verify -crl_check -CAfile "$W/root.pem" \
		    -untrusted gone.web.lab.internal.chain -CRLfile crl.pem \
		    gone.web.lab.internal.pem
		[ "$status" != 0 ] && break
		sleep 0.2
	done
	[[ "$output" == *"certificate revoked"* ]]
	run openssl crl -in crl.pem -noout -text
	[[ "$output" == *"Serial Number: ${serial^^}"* ]]
	[[ "$output" == *"Key Compromise"* ]]
}

@test "revoke: another valid certificate over mTLS naming someone else's serial (403 not_authorized)" {
	kd_issue victim.web.lab.internal
	kd_issue stranger.web.lab.internal
	serial=$(cert_serial victim.web.lab.internal.pem)
	jq -n --arg s "$serial" '{serial: $s}' >rev.json
	kd_post /v1/revoke rev.json --cert stranger.web.lab.internal.pem \
	    --key stranger.web.lab.internal.key
	expect_api 403 not_authorized
	[ "$(store_status "$serial")" = valid ]
	[ "$(store_status "$(cert_serial stranger.web.lab.internal.pem)")" = valid ]
}

@test "revoke: a token of a provisioner that did not issue it (403 not_authorized)" {
	kd_issue victim2.web.lab.internal web
	serial=$(cert_serial victim2.web.lab.internal.pem)
	tok=$(kd_token other "$serial")
	jq -n --arg s "$serial" --arg t "$tok" '{serial: $s, token: $t}' >rev.json
	kd_post /v1/revoke rev.json
	expect_api 403 not_authorized
	[ "$(store_status "$serial")" = valid ]
	# The issuing provisioner's token may.
	tok=$(kd_token web "$serial")
	jq -n --arg s "$serial" --arg t "$tok" '{serial: $s, token: $t, reason: "superseded"}' >rev.json
	kd_post /v1/revoke rev.json
	expect_api 200
	[ "$(store_status "$serial")" = revoked ]
}

@test "revoke: an admin provisioner added and loaded by SIGHUP may revoke any certificate" {
	kd_issue victim3.web.lab.internal web
	serial=$(cert_serial victim3.web.lab.internal.pem)
	kd_prov boss --admin --allow '*.admin.lab.internal'
	kd_hup
	tail -1 "$KD_LOG" | grep -q 'provisioner(s) loaded'
	tok=$(kd_token boss "$serial")
	jq -n --arg s "$serial" --arg t "$tok" '{serial: $s, token: $t}' >rev.json
	kd_post /v1/revoke rev.json
	expect_api 200
	[ "$(store_status "$serial")" = revoked ]
	# An unknown serial is 404 not_found.
	tok=$(kd_token boss 7f00000000000000000000000000000000000001)
	jq -n --arg t "$tok" '{serial: "7f00000000000000000000000000000000000001", token: $t}' >rev.json
	kd_post /v1/revoke rev.json
	expect_api 404 not_found
}

# ---------------------------------------------------------------------
# Malformed requests

@test "malformed requests get 4xx and their code; the daemon keeps serving" {
	csr good "/CN=good.web.lab.internal"
	# A valid CSR whose signature's last byte is flipped.
	openssl req -in good.csr -outform DER -out good.der
	n=$(stat -c %s good.der)
	last=$(od -An -tu1 -j $((n - 1)) -N1 good.der | tr -d ' ')
	printf "\\$(printf %03o $((last ^ 1)))" |
	    dd of=good.der bs=1 seek=$((n - 1)) conv=notrunc 2>/dev/null
	openssl req -inform DER -in good.der -out broken.csr
	run openssl req -in broken.csr -noout
	expect 0
	run openssl req -in broken.csr -noout -verify
	[ "$status" != 0 ] || [[ "$output" == *"verify failure"* ]]
	jq -n --rawfile c good.csr '{csr: $c, token: "x.y.z"}' >good-csr-bad-token.json
	printf '{"csr": ' >bad-json.json
	echo '[]' >array.json
	jq -n --rawfile c good.csr '{csr: $c, token: "t", extra: "x"}' >unknown.json
	echo '{"csr": 1, "token": "t"}' >csr-number.json
	echo '{"token": "t"}' >no-csr.json
	echo '{"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "token": "t"}' >bad-pem.json
	echo '{"csr": "hello", "token": "t"}' >not-pem.json
	jq -n --rawfile c broken.csr '{csr: $c, token: "t"}' >broken-sig.json
	jq -n --rawfile c good.csr '{csr: $c, token: "t", lifetime: "forever"}' >bad-life.json
	jq -n --rawfile c good.csr '{csr: $c, token: "t", lifetime: "-5h"}' >neg-life.json
	# A body over 64 KiB: announced and waiting for "100 Continue",
	# chunked, and sent straight after the headers.
	{ printf '{"csr": "'; head -c 70000 /dev/zero | tr '\0' A; printf '", "token": "t"}\n'; } >big.json
	echo '{}' >empty.json
	echo '{"reason": "certificateHold"}' >bad-reason.json
	echo '{"csr": "a", "csr": "b", "token": "t"}' >dup.json

	before=$(kd_count)
	# file | path | expected status | code | extra curl options
	cases=(
	    "bad-json.json|/v1/sign|400|bad_json|"
	    "array.json|/v1/sign|400|bad_request|"
	    "unknown.json|/v1/sign|400|bad_request|"
	    "csr-number.json|/v1/sign|400|bad_request|"
	    "no-csr.json|/v1/sign|400|bad_request|"
	    "not-pem.json|/v1/sign|400|bad_csr|"
	    "bad-pem.json|/v1/sign|400|bad_csr|"
	    "broken-sig.json|/v1/sign|400|csr_signature|"
	    "bad-life.json|/v1/sign|400|bad_lifetime|"
	    "neg-life.json|/v1/sign|400|bad_lifetime|"
	    "good-csr-bad-token.json|/v1/sign|401|token_malformed|"
	    "big.json|/v1/sign|413|body_too_large|-H Expect:100-continue"
	    "big.json|/v1/sign|413|body_too_large|-H Transfer-Encoding:chunked"
	    "big.json|/v1/sign|413|body_too_large|-H Expect:"
	    "dup.json|/v1/sign|400|bad_request|"
	    "good-csr-bad-token.json|/v1/sign|415|unsupported_media_type|ctype=text/plain"
	    "good-csr-bad-token.json|/v1/sign|415|unsupported_media_type|ctype=application/jsonx"
	    "good-csr-bad-token.json|/v1/sign|401|token_malformed|ctype=application/json; charset=utf-8"
	    "empty.json|/v1/sign|405|method_not_allowed|-X GET"
	    "empty.json|/v1/sign|405|method_not_allowed|-X PUT"
	    "empty.json|/v1/roots|405|method_not_allowed|"
	    "empty.json|/v1/nope|404|not_found|"
	    "empty.json|/|404|not_found|"
	    "empty.json|/v1/revoke|401|client_cert_required|"
	    "bad-reason.json|/v1/revoke|400|bad_reason|"
	)
	failed=0
	for c in "${cases[@]}"; do
		IFS='|' read -r file path want wcode opts <<<"$c"
		ctype=
		if [[ "$opts" == ctype=* ]]; then
			ctype=${opts#ctype=}
			opts=
		fi
		# shellcheck disable=SC2086
		KD_CTYPE=$ctype kd_post "$path" "$file" $opts
		if [ "$code" != "$want" ] || [ "$err" != "$wcode" ]; then
			echo "case $c: got $code '$err': $body"
			failed=1
		fi
	done
	[ "$failed" = 0 ]
	# GET on a POST endpoint says what is allowed.
	run curl -s -D - -o /dev/null --cacert "$W/root.pem" "$KD_API/v1/sign"
	[[ "$output" == *"405"* ]]
	grep -qi '^Allow: POST' <<<"$output"
	[ "$(kd_count)" = "$before" ]
	[ "$(curl -s "$KD_PUB/healthz")" = ok ]
	# /v1/roots answers GET.
	run curl -sf --cacert "$W/root.pem" "$KD_API/v1/roots"
	expect 0
	[ "$(jq -r '.roots[0]' <<<"$output")" = "$(cat "$W/root.pem")" ]
	# A good request still gets its certificate.
	kd_issue after.web.lab.internal
	[ "$(kd_count)" = $((before + 1)) ]
}

# ---------------------------------------------------------------------
# The daemon

@test "serve -n: 0 on a good home; 1 naming an unknown key in a copy" {
	kd_stop
	run keyrited serve -n --home "$KD"
	expect 0 "OK"
	cp -a "$KD" kdcopy
	echo 'colour: blue' >>kdcopy/keyrited.yaml
	run keyrited serve -n --home kdcopy
	expect 1 "colour"
	[[ "$output" == *"unknown setting"* ]]
	[[ "$output" == *"keyrited.yaml:"* ]]
}

@test "serve -n leaves a store of an older schema as it is and says serve upgrades it; keyrited certs upgrades it" {
	kd_stop
	cp -a "$KD" kdold
	# Back to version 2's indexes, as a keyrite before version 3 left it.
	sqlite3 kdold/store.db "DROP INDEX certs_serial_issuer;
	    DROP INDEX certs_not_after; DROP INDEX certs_revoked;
	    DROP INDEX certs_unsettled;
	    CREATE UNIQUE INDEX certs_issuer_serial ON certs (issuer_kid, serial);
	    CREATE INDEX certs_serial ON certs (serial);
	    CREATE INDEX certs_status_not_after ON certs (status, not_after);
	    UPDATE meta SET value = 2 WHERE name = 'schema_version';"
	run keyrited serve -n --home kdold
	expect 0 "OK"
	[[ "$output" == *"store.db: note: schema version 2; keyrited serve upgrades it to 3"* ]]
	[ "$(sqlite3 kdold/store.db "SELECT value FROM meta WHERE name = 'schema_version'")" = 2 ]
	[ "$(sqlite3 kdold/store.db "SELECT count(*) FROM sqlite_schema WHERE name = 'certs_serial'")" = 1 ]
	# Any command that opens it in the front upgrades it, certificates kept.
	n=$(sqlite3 kdold/store.db "SELECT count(*) FROM certs")
	run keyrited certs --home kdold
	expect 0 ""
	[ "$(sqlite3 kdold/store.db "SELECT value FROM meta WHERE name = 'schema_version'")" = 3 ]
	[ "$(sqlite3 kdold/store.db "SELECT count(*) FROM certs")" = "$n" ]
	run keyrited serve -n --home kdold
	expect 0 "OK"
	[[ "$output" != *"schema version"* ]]
}

@test "the CRL is reissued on schedule; an expired certificate renews no more (401 cert_expired) and is tidied on schedule" {
	local n1 n2 serial i before
	kd_stop
	cp "$KD/keyrited.yaml" "$BATS_TEST_TMPDIR/keyrited.yaml.orig"
	sed -i -e 's/^crl_interval:.*/crl_interval: 2s/' \
	    -e 's/^retention:.*/retention: 5s/' \
	    -e 's/^tidy_interval:.*/tidy_interval: 1s/' "$KD/keyrited.yaml"
	kd_start
	# notBefore lies 5 minutes back, so 6m (the shortest lifetime
	# issued) ends 60 s from now.
	kd_issue tidy.web.lab.internal web 6m
	serial=$(cert_serial tidy.web.lab.internal.pem)
	[ "$(store_status "$serial")" = valid ]
	curl -sf "$KD_PUB/crl/intermediate.crl" -o c1.crl
	n1=$(crl_number c1.crl)
	sleep 3
	curl -sf "$KD_PUB/crl/intermediate.crl" -o c2.crl
	n2=$(crl_number c2.crl)
	# No revocation in between: only the schedule made it.
	[ "$n2" -gt "$n1" ]
	# Expired: renewal over mTLS is refused.
	for ((i = 0; i < 700; i++)); do
		openssl x509 -in tidy.web.lab.internal.pem -noout -checkend 0 >/dev/null || break
		sleep 0.1
	done
	sleep 1
	run openssl x509 -in tidy.web.lab.internal.pem -noout -checkend 0
	[ "$status" = 1 ]
	before=$(kd_count --all)
	echo '{}' >empty.json
	kd_post /v1/renew empty.json --cert tidy.web.lab.internal.pem \
	    --key tidy.web.lab.internal.key
	expect_api 401 cert_expired
	[ "$(kd_count --all)" = "$before" ]
	# Kept for retention (5 s), then tidied (every 1 s).
	for ((i = 0; i < 150; i++)); do
		[ -z "$(store_status "$serial")" ] && break
		sleep 0.1
	done
	[ -z "$(store_status "$serial")" ]
}

# The serial of the certificate the API serves now.
api_serial() {
	openssl s_client -connect "127.0.0.1:$KD_API_PORT" -CAfile "$W/root.pem" \
	    </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2
}

# How many serving certificates the daemon has issued itself.
serving_count() {
	keyrited certs --home "$KD" --json --all |
	    jq '[.[] | select(.provisioner == "keyrited-serving")] | length'
}

@test "the serving certificate is renewed at two thirds of its life, once" {
	local s1 s2 n0 i
	kd_stop
	cp "$KD/keyrited.yaml" "$BATS_TEST_TMPDIR/keyrited.yaml.orig"
	# notBefore lies 5 minutes back, so 360 s (the shortest lifetime
	# issued) ends 60 s after issue and renewal falls 40 s after issue.
	# Counted from notBefore, two thirds would lie before the issue: a
	# new certificate on every tick.
	sed -i 's/^default_lifetime:.*/default_lifetime: 360s/' "$KD/keyrited.yaml"
	# The one from earlier starts would be reused while it is valid.
	rm "$KD"/tls/serving.pem
	n0=$(serving_count)
	kd_start
	s1=$(api_serial)
	[ -n "$s1" ]
	[ "$(serving_count)" = $((n0 + 1)) ]
	sleep 20
	# Half way: still the first one, and no other was made.
	[ "$(api_serial)" = "$s1" ]
	[ "$(serving_count)" = $((n0 + 1)) ]
	for ((i = 0; i < 300; i++)); do
		s2=$(api_serial)
		[ -n "$s2" ] && [ "$s2" != "$s1" ] && break
		sleep 0.1
	done
	[ "$s2" != "$s1" ]
	# One renewal, and the new listener answers the API.
	[ "$(serving_count)" = $((n0 + 2)) ]
	kd_issue after-renewal.web.lab.internal web
	grep -q "$s2" <(keyrited certs --home "$KD" --json --all |
	    jq -r '.[] | select(.provisioner == "keyrited-serving") | .serial' |
	    tr a-f A-F)
}

@test "SIGHUP loads a provisioner added after start" {
	kd_prov late --allow '*.late.lab.internal'
	csr l1 "/CN=a.late.lab.internal"
	tok=$(kd_token late a.late.lab.internal)
	sign_refused 401 token_issuer l1.csr "$tok"
	kd_hup
	tail -1 "$KD_LOG" | grep -q 'provisioner(s) loaded'
	kd_issue b.late.lab.internal late
	# The removed one stays refused after a reload.
	csr g "/CN=g.web.lab.internal"
	tok=$(kd_token gone g.web.lab.internal)
	sign_refused 401 token_issuer g.csr "$tok"
}

@test "SIGTERM: exit 0, the signer children are gone" {
	children=$(pgrep -P "$KD_PID")
	[ "$(wc -w <<<"$children")" -ge 1 ]
	for p in $children; do
		grep -q _signer "/proc/$p/cmdline"
	done
	pid=$KD_PID
	st=0
	kd_stop || st=$?
	[ "$st" = 0 ]
	pid_gone "$pid"
	for p in $children; do
		pid_gone "$p"
	done
	grep -q 'draining' "$KD_LOG"
	[ -z "$(pgrep -f "keyrited _signer --home $KD\$" -P "$pid" || true)" ]
}

@test "publication: metrics, the CRLs, the CA certificates" {
	kd_issue m.web.lab.internal
	kd_post /v1/sign m.web.lab.internal.req
	expect_api 401 token_replayed
	run curl -sf "$KD_PUB/metrics"
	expect 0
	grep -qx 'keyrited_certificates_issued_total{endpoint="sign"} 1' <<<"$output"
	grep -qx 'keyrited_certificates_issued_total{endpoint="renew"} 0' <<<"$output"
	grep -qx 'keyrited_requests_refused_total{reason="token_replayed"} 1' <<<"$output"
	grep -qx 'keyrited_requests_refused_total{reason="csr_names"} 0' <<<"$output"
	grep -q '^keyrited_signers_up [1-9]' <<<"$output"
	grep -q '^keyrited_store_certificates{status="valid"} [1-9]' <<<"$output"
	grep -q '^keyrited_crl_number [1-9]' <<<"$output"
	# The intermediate's CRL: DER, signed by the intermediate.
	curl -sf "$KD_PUB/crl/intermediate.crl" -o int.crl
	run openssl crl -inform DER -in int.crl -noout -issuer -crlnumber
	expect 0 "issuer=CN = Test Issuing CA"
	run openssl crl -inform DER -in int.crl -noout -CAfile "$W/int.pem" -verify
	[[ "$output" == *"verify OK"* ]]
	curl -sf "$KD_PUB/crl/intermediate.pem" -o int-crl.pem
	cmp <(openssl crl -inform DER -in int.crl -outform DER) \
	    <(openssl crl -in int-crl.pem -outform DER)
	# The CA certificates.
	curl -sf "$KD_PUB/certs/root.pem" -o root.pem
	cmp root.pem "$W/root.pem"
	curl -sf "$KD_PUB/certs/intermediate.pem" -o int.pem
	cmp int.pem "$W/int.pem"
	curl -sf "$KD_PUB/certs/chain.pem" -o chain.pem
	cmp chain.pem <(cat "$W/int.pem" "$W/root.pem")
	# The root's CRL from the ceremony (installed with --root-crl).
	curl -sf "$KD_PUB/crl/root.crl" -o root.crl
	cmp <(openssl crl -inform DER -in root.crl -outform PEM) \
	    <(openssl crl -in "$W/root.crl" -outform PEM)
	# Unknown paths and methods.
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$KD_PUB/nope")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$KD_PUB/healthz")" = 405 ]
}

# ---------------------------------------------------------------------
# The client, keyrite cert, against the daemon

@test "keyrite cert request | renew | revoke against the daemon" {
	before=$(kd_count)
	run keyrite cert request --server "$KD_API" --root "$W/root.pem" \
	    --provisioner "$W/web.provisioner" --name kc.web.lab.internal \
	    --san kc2.web.lab.internal --lifetime 2h --out svc
	expect 0 "certificate: svc"
	[ "$(kd_count)" = $((before + 1)) ]
	run openssl verify -x509_strict -CAfile "$W/root.pem" -untrusted svc/chain.pem svc/cert.pem
	expect 0 "svc/cert.pem: OK"
	[ "$(lifetime_of svc/cert.pem)" = 7200 ]
	first=$(cert_serial svc/cert.pem)
	[ "$(store_status "$first")" = valid ]
	run keyrite cert renew --server "$KD_API" --root "$W/root.pem" --dir svc
	expect 0 "renewed"
	[ "$(kd_count)" = $((before + 2)) ]
	second=$(cert_serial svc/cert.pem)
	[ "$second" != "$first" ]
	cmp <(openssl x509 -in svc/cert.pem -noout -pubkey) <(openssl pkey -in svc/key.pem -pubout)
	run keyrite cert revoke --server "$KD_API" --root "$W/root.pem" --dir svc \
	    --reason keyCompromise
	expect 0 "$second"
	[ "$(store_status "$second")" = revoked ]
	run keyrite cert renew --server "$KD_API" --root "$W/root.pem" --dir svc
	expect 1 "cert_revoked"
	run keyrite cert request --server "$KD_API" --root "$W/root.pem" \
	    --provisioner "$W/web.provisioner" --name kc.db.lab.internal --out svc2
	expect 1 "name_not_allowed"
	[ ! -e svc2 ]
	[ "$(kd_count)" = $((before + 2)) ]
}

@test "max_connections caps the API's connections, each served by its own SCHED_BATCH thread; an old threads key loads and is said to be unused" {
	local a b kid
	kd_stop
	cp "$KD/keyrited.yaml" "$BATS_TEST_TMPDIR/keyrited.yaml.orig"
	# init writes the key with its default.
	grep -qx 'max_connections: 256' "$KD/keyrited.yaml"
	sed -i 's/^max_connections:.*/max_connections: 2/' "$KD/keyrited.yaml"
	echo 'threads: 8' >>"$KD/keyrited.yaml"
	run keyrited serve --home "$KD" -n
	expect 0 "note: threads is no longer used"
	kd_start
	grep -q 'threads is no longer used.*max_connections (now 2)' "$KD_LOG"
	# Two idle TLS connections, open for a few seconds...
	timeout 6 openssl s_client -connect "127.0.0.1:$KD_API_PORT" -quiet \
	    < <(sleep 6) >/dev/null 2>&1 &
	a=$!
	timeout 6 openssl s_client -connect "127.0.0.1:$KD_API_PORT" -quiet \
	    < <(sleep 6) >/dev/null 2>&1 &
	b=$!
	sleep 1.5
	# Their threads run SCHED_BATCH (docs/signer.md); the main thread,
	# the store's and the signer processes keep the default policy.
	run ps -L -o cls=,comm= -p "$KD_PID"
	echo "$output"
	[ "$(grep -c '^ *B  *MHD-connection$' <<<"$output")" -eq 2 ]
	grep -q '^ *B  *MHD-listen$' <<<"$output"
	grep -q '^ *TS  *store-write$' <<<"$output"
	grep -q '^ *TS  *store-sync$' <<<"$output"
	[ "$(head -1 <<<"$output" | awk '{print $1}')" = TS ]
	for kid in $(pgrep -P "$KD_PID"); do
		[ "$(ps -o cls= -p "$kid" | tr -d ' ')" = TS ]
	done
	# ...and a third gets nothing.
	run curl -s --max-time 3 --cacert "$W/root.pem" "$KD_API/v1/roots"
	[ "$status" -ne 0 ] || { echo "a third connection was served"; false; }
	wait "$a" "$b" || true
	# Once they have gone, the API answers again.
	curl -sf --max-time 5 --cacert "$W/root.pem" "$KD_API/v1/roots" |
	    grep -q 'BEGIN CERTIFICATE'
}
