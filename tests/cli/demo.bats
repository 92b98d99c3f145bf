#!/usr/bin/env bats
# `make demo`'s script runs end to end: the root refuses the rogue CSR,
# no CA key exists outside the tokens, and the online signer issues a
# leaf that curl, GnuTLS and NSS accept and whose revocation shows on
# the CRL at the leaf's own CDP URL.

load helpers

@test "the demo runs end to end, and no CA key exists outside the tokens" {
	export KEYRITE_DEMO_DIR="$BATS_TEST_TMPDIR/demo"
	run "$KEYRITE_TOP/scripts/demo.sh"
	expect 0 "no PEM private key anywhere"
	[[ "$output" == *"(refused, as it should be"* ]]
	[[ "$output" == *"int.pem: OK"* ]]
	[ -f "$KEYRITE_DEMO_DIR/root.pem" ] && [ -f "$KEYRITE_DEMO_DIR/int.pem" ]
	[ -f "$KEYRITE_DEMO_DIR/root.crl" ]
	# The online signer's part.
	[[ "$output" == *"curl: HTTP 200, TLS verified"* ]]
	[[ "$output" == *"Chain verification output: Verified."* ]]
	[[ "$output" == *"certutil: certificate is valid"* ]]
	[[ "$output" == *"certificate revoked"* ]]
	[[ "$output" == *"(refused: the CRL at the leaf's CDP lists it as revoked)"* ]]
	[[ "$output" == *"published bundle-1.tar as version 1"* ]]
	[[ "$output" == *"applied bundle version 1: 2 added, 0 removed in 2 stores"* ]]
	[[ "$output" == *"OK: every store trusts exactly the anchors it should"* ]]
	[[ "$output" == *"online-int.pem: OK"* ]]
	# The only private keys in files are the service's own and the
	# daemon's TLS serving key; every CA key is in a token.
	run grep -rl 'PRIVATE KEY' "$KEYRITE_DEMO_DIR"
	[ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = \
	    "$KEYRITE_DEMO_DIR/signer/tls/serving.key $KEYRITE_DEMO_DIR/svc/key.pem " ]
	# The daemon and the TLS server were stopped.
	run pgrep -f "keyrited serve --home signer"
	[ "$status" -ne 0 ]
}
