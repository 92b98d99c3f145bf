#!/usr/bin/env bats
# Every verb and subverb has --help with an example; bad usage exits 2.

load helpers

@test "keyrite --help lists the verbs and shows an example" {
	run keyrite --help
	expect 0 "usage: keyrite VERB"
	[[ "$output" == *"example:"* ]]
	for v in hsm root backup quorum ceremony inspect; do [[ "$output" == *"  $v "* ]]; done
}

@test "keyrite without arguments is a usage error" {
	run keyrite
	expect 2 "usage:"
}

@test "unknown verb exits 2" {
	run keyrite frob
	expect 2 "unknown verb 'frob'"
}

@test "every subcommand has --help with an example" {
	for c in "hsm tokens" "hsm init-token" "hsm keygen" "hsm keys" \
	    "hsm csr" "root init" "root sign" "root crl" "inspect" \
	    "backup create" "backup verify" "backup restore" "backup print" \
	    "backup type-in" "quorum init" "ceremony plan" "ceremony run" \
	    "ceremony rehearse" "ceremony verify" "ceremony report"; do
		run keyrite $c --help
		expect 0 "usage: keyrite $c"
		[[ "$output" == *"example:"* ]] || { echo "no example: $c"; false; }
	done
}

@test "verb help lists subcommands" {
	run keyrite hsm --help
	expect 0 "keygen"
	run keyrite root --help
	expect 0 "crl"
	run keyrite root
	expect 2 "usage: keyrite root SUBCOMMAND"
}

@test "--version prints the version" {
	run keyrite --version
	expect 0 "keyrite "
}
