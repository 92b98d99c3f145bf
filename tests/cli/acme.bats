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
	    --allow '*.lab.internal' --max-lifetime 48h >/dev/null
	HTTP01=$(free_port)
	TLSALPN=$(free_port)
	while [ "$TLSALPN" = "$HTTP01" ]; do TLSALPN=$(free_port); done
	export HTTP01 TLSALPN
	cat >>"$KD/keyrited.yaml" <<EOF
acme_http01_port: $HTTP01
acme_tlsalpn01_port: $TLSALPN
acme_connect: "127.0.0.1"
EOF
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	kd_start
	DIR="$KD_API/acme/directory"
}

teardown() {
	kd_stop || true
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
}
