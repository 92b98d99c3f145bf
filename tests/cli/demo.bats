#!/usr/bin/env bats
# `make demo`'s script runs end to end, refuses the rogue CSR, and leaves
# no private key file behind.

load helpers

@test "the demo runs end to end and writes no private key file" {
	export KEYRITE_DEMO_DIR="$BATS_TEST_TMPDIR/demo"
	run "$KEYRITE_TOP/scripts/demo.sh"
	expect 0 "no PEM private key anywhere"
	[[ "$output" == *"(refused, as it should be"* ]]
	[[ "$output" == *"int.pem: OK"* ]]
	[ -f "$KEYRITE_DEMO_DIR/root.pem" ] && [ -f "$KEYRITE_DEMO_DIR/int.pem" ]
	[ -f "$KEYRITE_DEMO_DIR/root.crl" ]
	run grep -rl 'PRIVATE KEY' "$KEYRITE_DEMO_DIR"
	[ -z "$output" ]
}
