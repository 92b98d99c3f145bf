#!/usr/bin/env bats
# keyrited's ACME server (docs/acme.md) with Debian's certbot and lego,
# and with tests/tools/acme_probe (a raw client) for the refusals RFC
# 8555 names.  Validation runs on loopback: keyrited.yaml's acme_connect
# sends http-01 and tls-alpn-01 to 127.0.0.1 on the configured ports.

load helpers

PROBE="$KEYRITE_BIN/../tools/acme_probe"

setup_file() {
	file_setup
	kd_ca_setup
	keyrited provisioner add --home "$KD" --name lab --acme \
	    --allow '*.lab.internal' --allow-ip 127.0.0.1/32 \
	    --max-lifetime 48h >/dev/null
	# eab: new accounts need an external account binding.
	keyrited provisioner add --home "$KD" --name eab --acme --eab \
	    --allow '*.eab.lab.internal' >"$W/eab.out"
	HTTP01=$(free_port)
	TLSALPN=$(free_port)
	while [ "$TLSALPN" = "$HTTP01" ]; do TLSALPN=$(free_port); done
	DNSPORT=$(free_port)
	export HTTP01 TLSALPN DNSPORT
	cat >>"$KD/keyrited.yaml" <<EOF
acme_http01_port: $HTTP01
acme_tlsalpn01_port: $TLSALPN
acme_connect: "127.0.0.1"
acme_dns_resolver: "127.0.0.1:$DNSPORT"
EOF
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	kd_start
	DIR="$KD_API/acme/lab/directory"
}

# The daemon stops cleanly (under make asan: without a leak report).
teardown() {
	local st=0
	# A provisioner a test added for itself is gone after it.
	[ ! -f "$KD/provisioners/rn.acme" ] ||
	    keyrited provisioner remove --home "$KD" --name rn >/dev/null
	kd_stop || st=$?
	[ "$st" -eq 0 ] || { echo "keyrited exited $st"; tail -40 "$KD_LOG"; false; }
}

# Certificates the ACME provisioner got (the serving one is in the store).
lab_count() {
	keyrited certs --home "$KD" --json "$@" |
	    jq '[.[] | select(.provisioner == "lab")] | length'
}

certbot_() {
	REQUESTS_CA_BUNDLE="$W/root.pem" certbot --non-interactive \
	    --config-dir cfg --work-dir work --logs-dir logs "$@"
}

# Chain $1 (leaf first) validates under the root with OpenSSL and GnuTLS.
validates() {
	openssl verify -x509_strict -CAfile "$W/root.pem" \
	    -untrusted "$1" "$1"
	certtool --verify --load-ca-certificate "$W/root.pem" --infile "$1"
}

@test "certbot obtains, renews and revokes a certificate over http-01" {
	n0=$(lab_count)
	run certbot_ certonly --standalone --server "$DIR" \
	    --http-01-port "$HTTP01" --agree-tos \
	    --register-unsafely-without-email -d www.lab.internal
	[ "$status" -eq 0 ] || { echo "$output"; tail -40 logs/letsencrypt.log; false; }
	live=cfg/live/www.lab.internal
	validates "$live/fullchain.pem"
	openssl x509 -in "$live/cert.pem" -noout -ext subjectAltName |
	    grep -q 'DNS:www.lab.internal'
	# The default lifetime, 24 h, as for the token API.
	nb=$(date -d "$(openssl x509 -in "$live/cert.pem" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$live/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
	[ $((na - nb)) -le $((24 * 3600 + 600)) ]
	s1=$(openssl x509 -in "$live/cert.pem" -noout -serial | cut -d= -f2)
	[ "$(lab_count)" -eq $((n0 + 1)) ]

	run certbot_ renew --force-renewal --http-01-port "$HTTP01"
	[ "$status" -eq 0 ] || { echo "$output"; tail -40 logs/letsencrypt.log; false; }
	s2=$(openssl x509 -in "$live/cert.pem" -noout -serial | cut -d= -f2)
	[ "$s1" != "$s2" ]
	validates "$live/fullchain.pem"
	[ "$(lab_count)" -eq $((n0 + 2)) ]

	run certbot_ revoke --server "$DIR" --cert-path "$live/cert.pem" \
	    --no-delete-after-revoke
	[ "$status" -eq 0 ] || { echo "$output"; tail -40 logs/letsencrypt.log; false; }
	s2l=$(echo "$s2" | tr 'A-F' 'a-f' | sed 's/^0*//')
	keyrited certs --home "$KD" --json |
	    jq -e --arg s "$s2l" '[.[] | select((.serial | ltrimstr("0")) == $s)][0].status == "revoked"'
	# And the next CRL lists it.
	for i in $(seq 50); do
		curl -s "$KD_PUB/crl/intermediate.crl" -o int.crl
		openssl crl -inform DER -in int.crl -noout -text |
		    grep -qi "$s2" && break
		sleep 0.2
	done
	openssl crl -inform DER -in int.crl -noout -text | grep -qi "$s2"
}

@test "lego obtains certificates over http-01 and tls-alpn-01" {
	export LEGO_CA_CERTIFICATES="$W/root.pem"
	n0=$(lab_count)
	run lego --server "$DIR" --accept-tos --email x@lab.internal \
	    --domains h.lab.internal --path lh --http --http.port ":$HTTP01" run
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	validates lh/certificates/h.lab.internal.crt
	run lego --server "$DIR" --accept-tos --email x@lab.internal \
	    --domains t.lab.internal --path lt --tls --tls.port ":$TLSALPN" run
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	validates lt/certificates/t.lab.internal.crt
	[ "$(lab_count)" -eq $((n0 + 2)) ]
}

@test "refusals carry their RFC 8555 type and issue nothing" {
	# Control: the probe itself gets a certificate.
	"$PROBE" "$DIR" "$W/root.pem" "$HTTP01" issue p.lab.internal >p.pem
	validates p.pem
	n=$(lab_count --all)

	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" outside x.example.com
	[ "$output" = "400 urn:ietf:params:acme:error:rejectedIdentifier" ]
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" outside x.other.internal
	[ "$output" = "400 urn:ietf:params:acme:error:rejectedIdentifier" ]
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" bad-nonce n.lab.internal
	[ "$output" = "400 urn:ietf:params:acme:error:badNonce" ]
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" bad-sig n.lab.internal
	[ "$output" = "400 urn:ietf:params:acme:error:malformed" ]
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" wrong-url n.lab.internal
	[ "$output" = "403 urn:ietf:params:acme:error:unauthorized" ]
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" csr-other c.lab.internal
	[ "$output" = "400 urn:ietf:params:acme:error:badCSR" ]
	# Nobody answers http-01: the challenge and the order are invalid.
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" fail-chall f.lab.internal
	[ "$status" -eq 0 ]
	[ "$output" = "challenge invalid urn:ietf:params:acme:error:connection" ]
	[ "$(lab_count --all)" -eq "$n" ]
	sqlite3 "$KD/store.db" "SELECT count(*) FROM acme_orders WHERE status = 'invalid'" | grep -qx 1
}

@test "an IP address is offered http-01 alone, and is issued over it" {
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" challenges probe.lab.internal
	expect 0
	[ "$(tr ' ' '\n' <<<"$output" | sort | tr '\n' ' ')" = \
	    "dns-01 http-01 tls-alpn-01 " ]
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" challenges 127.0.0.1
	expect 0
	[ "$output" = http-01 ]
	"$PROBE" "$DIR" "$W/root.pem" "$HTTP01" issue 127.0.0.1 >ip.pem
	openssl x509 -in ip.pem -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1'
	validates ip.pem
}

@test "an order's notAfter is the certificate's notAfter" {
	local want got
	want=$(($(date +%s) + 7200))
	ACME_PROBE_NOT_AFTER=7200 "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" \
	    issue na.lab.internal >na.pem
	got=$(date -d "$(openssl x509 -in na.pem -noout -enddate |
	    cut -d= -f2)" +%s)
	# The order's time is the probe's "now + 7200", to the second.
	[ $((got - want)) -ge -2 ] && [ $((got - want)) -le 2 ] ||
	    { echo "notAfter $got, asked for about $want"; false; }
	validates na.pem
}

@test "every ACME answer has a fresh Replay-Nonce; newNonce and the directory" {
	run curl -s -D - -o /dev/null --cacert "$W/root.pem" -I "$KD_API/acme/lab/new-nonce"
	echo "$output" | grep -qi '^replay-nonce: [A-Za-z0-9_-]\{22\}'
	echo "$output" | grep -qi '^cache-control: no-store'
	run curl -s -D - --cacert "$W/root.pem" "$KD_API/acme/lab/directory"
	echo "$output" | grep -qi '^replay-nonce:'
	run curl -s --cacert "$W/root.pem" -X POST -H 'Content-Type: application/json' \
	    -d '{}' "$KD_API/acme/lab/new-order"
	echo "$output" | jq -e '.type == "urn:ietf:params:acme:error:malformed" and .status == 415'
	run curl -s --cacert "$W/root.pem" "$KD_API/acme/nosuch/directory"
	echo "$output" | jq -e '.status == 404'
	# Two ACME provisioners: no alias, each has its own directory.
	run curl -s --cacert "$W/root.pem" "$KD_API/acme/directory"
	echo "$output" | jq -e '.status == 404 and (.detail | contains("2 ACME"))'
	run curl -s --cacert "$W/root.pem" "$KD_API/acme/eab/directory"
	echo "$output" | jq -e '.newOrder | endswith("/acme/eab/new-order")'
}

@test "with --eab, an account needs the binding; lego registers with it" {
	grep -q '^eab kid: ' "$W/eab.out"
	kid=$(awk '/^eab kid:/ { print $3 }' "$W/eab.out")
	key=$(awk '/^eab hmac key:/ { print $4 }' "$W/eab.out")
	export LEGO_CA_CERTIFICATES="$W/root.pem"
	edir="$KD_API/acme/eab/directory"
	curl -s --cacert "$W/root.pem" "$edir" |
	    jq -e '.meta.externalAccountRequired == true'
	run lego --server "$edir" --accept-tos --email x@lab.internal \
	    --domains e.eab.lab.internal --path l1 --http --http.port ":$HTTP01" run
	[ "$status" -ne 0 ]
	echo "$output" | grep -qi 'external account' || { echo "$output"; false; }
	# The server refuses too (lego stops before asking).
	run "$PROBE" "$edir" "$W/root.pem" "$HTTP01" noeab
	[ "$output" = "400 urn:ietf:params:acme:error:externalAccountRequired" ]
	run lego --server "$edir" --accept-tos --email x@lab.internal \
	    --eab --kid "$kid" --hmac "$key" \
	    --domains e.eab.lab.internal --path l2 --http --http.port ":$HTTP01" run
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	validates l2/certificates/e.eab.lab.internal.crt
	# A key id binds one account only.
	run lego --server "$edir" --accept-tos --email y@lab.internal \
	    --eab --kid "$kid" --hmac "$key" \
	    --domains f.eab.lab.internal --path l3 --http --http.port ":$HTTP01" run
	[ "$status" -ne 0 ]
	echo "$output" | grep -q 'unauthorized'
	# The lab directory does not issue the eab provisioner's names.
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" outside g.eab.lab.internal
	[ "$output" = "400 urn:ietf:params:acme:error:rejectedIdentifier" ]
}

@test "key rollover: the new key orders, the old one is refused" {
	run "$PROBE" "$DIR" "$W/root.pem" "$HTTP01" rollover r.lab.internal
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "${lines[0]}" = "rollover ok" ]
	[ "${lines[1]}" = "400 urn:ietf:params:acme:error:malformed" ]
}

@test "dns-01 against the configured resolver" {
	"$PROBE" "$DIR" "$W/root.pem" "$HTTP01" dns01 d.lab.internal \
	    "$DNSPORT" >d.pem
	validates d.pem
	openssl x509 -in d.pem -noout -ext subjectAltName |
	    grep -q 'DNS:d.lab.internal'
}

@test "provisioner add --acme: usage, list, a taken name, remove" {
	run keyrited provisioner add --home "$KD" --name x --acme \
	    --allow '*.lab.internal' --out x.provisioner
	[ "$status" -eq 2 ]
	echo "$output" | grep -q -- '--acme takes no --out'
	run keyrited provisioner add --home "$KD" --name x --eab \
	    --allow '*.lab.internal' --out x.provisioner
	[ "$status" -eq 2 ]
	run keyrited provisioner add --home "$KD" --name lab --acme \
	    --allow '*.lab.internal'
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'exists already'
	run keyrited provisioner add --home "$KD" --name lab \
	    --allow '*.lab.internal' --out lab.provisioner
	[ "$status" -eq 1 ]
	[ ! -e lab.provisioner ]
	run keyrited provisioner list --home "$KD"
	echo "$output" | grep -q '^lab (acme)  max 48h  allow: \*\.lab\.internal 127\.0\.0\.1/32$'
	echo "$output" | grep -q '^eab (acme, eab)'
	keyrited provisioner list --home "$KD" --json |
	    jq -e '[.[] | select(.kind == "acme")] | length == 2'
	keyrited provisioner add --home "$KD" --name tmp --acme \
	    --allow 'a.lab.internal' >/dev/null
	[ -f "$KD/provisioners/tmp.acme" ]
	keyrited provisioner remove --home "$KD" --name tmp >/dev/null
	[ ! -e "$KD/provisioners/tmp.acme" ]
	# A damaged ACME provisioner file is named when the daemon loads.
	echo '{"kind":"acme"}' >"$KD/provisioners/bad.acme"
	run keyrited provisioner list --home "$KD"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'provisioners/bad.acme'
	rm "$KD/provisioners/bad.acme"
}

# The provisioner the store records for certificate $1.
stored_prov() {
	local s
	s=$(cert_serial "$1")
	keyrited certs --home "$KD" --json |
	    jq -r --arg s "$s" '.[] | select(.serial == $s) | .provisioner'
}

@test "a certificate certbot got renews over mTLS (keyrite cert renew) under its ACME provisioner's policy; not once that is removed" {
	local s0 s1 s2
	# rn: an ACME provisioner of this test's own, added by SIGHUP.
	keyrited provisioner add --home "$KD" --name rn --acme \
	    --allow '*.rn.lab.internal' --max-lifetime 30h >/dev/null
	kd_hup
	run certbot_ certonly --standalone --server "$KD_API/acme/rn/directory" \
	    --http-01-port "$HTTP01" --agree-tos \
	    --register-unsafely-without-email -d www.rn.lab.internal
	[ "$status" -eq 0 ] || { echo "$output"; tail -40 logs/letsencrypt.log; false; }
	live=cfg/live/www.rn.lab.internal
	[ "$(stored_prov "$live/cert.pem")" = rn ]
	# The layout keyrite cert renew reads: cert.pem, key.pem, chain.pem.
	mkdir -m 700 held
	cp "$live/cert.pem" held/cert.pem
	cp "$live/chain.pem" held/chain.pem
	install -m 600 "$live/privkey.pem" held/key.pem
	s0=$(cert_serial held/cert.pem)

	run keyrite cert renew --server "$KD_API" --root "$W/root.pem" --dir held
	expect 0 "renewed"
	s1=$(cert_serial held/cert.pem)
	[ "$s1" != "$s0" ]
	[ "$(stored_prov held/cert.pem)" = rn ]
	validates held/fullchain.pem
	cmp <(openssl x509 -in held/cert.pem -noout -pubkey) \
	    <(openssl pkey -in held/key.pem -pubout)
	cmp <(openssl x509 -in held/cert.pem -noout -ext subjectAltName) \
	    <(openssl x509 -in "$live/cert.pem" -noout -ext subjectAltName)
	[ "$(lifetime_of held/cert.pem)" = "$(lifetime_of "$live/cert.pem")" ]
	# rn's max-lifetime caps a renewal as it caps an order.
	run keyrite cert renew --server "$KD_API" --root "$W/root.pem" \
	    --dir held --lifetime 100h
	expect 0 "capped by the server"
	[ "$(lifetime_of held/cert.pem)" = $((30 * 3600)) ]
	# rn again, with an allow list that no longer has the name.
	keyrited provisioner remove --home "$KD" --name rn >/dev/null
	keyrited provisioner add --home "$KD" --name rn --acme \
	    --allow 'other.rn.lab.internal' >/dev/null
	kd_hup
	s2=$(cert_serial held/cert.pem)
	run keyrite cert renew --server "$KD_API" --root "$W/root.pem" --dir held
	expect 1 "name_not_allowed"
	[ "$(cert_serial held/cert.pem)" = "$s2" ]
	# rn removed: refused as for a removed token provisioner.
	keyrited provisioner remove --home "$KD" --name rn >/dev/null
	kd_hup
	run keyrite cert renew --server "$KD_API" --root "$W/root.pem" --dir held
	expect 1 "not_authorized"
	[[ "$output" == *"was removed"* ]]
	[ "$(cert_serial held/cert.pem)" = "$s2" ]
}
