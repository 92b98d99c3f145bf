#!/usr/bin/env bats
# docs/quickstart.md works as printed: every ```sh block runs, in order,
# in one shell, from a copy of the source tree's point of view.

load helpers

@test "every command in docs/quickstart.md works as printed" {
	cd "$BATS_TEST_TMPDIR"
	# Step 0 builds from the source tree; run it there, the rest here.
	awk '/^```sh$/{f=1; next} /^```$/{f=0} f' "$KEYRITE_TOP/docs/quickstart.md" >all.sh
	grep -q 'keyrite root crl' all.sh
	{
		echo 'set -e'
		echo "cd '$KEYRITE_TOP'"
		# make is run by make check already; don't rebuild in parallel.
		sed -n '1,/^export KEYRITE_PROFILE_DIR/p' all.sh | grep -v '^make$' |
		    sed "s#\$PWD/build/bin#$KEYRITE_BIN#"
		echo "cd '$BATS_TEST_TMPDIR'"
		sed '1,/^export KEYRITE_PROFILE_DIR/d' all.sh
	} >quickstart.sh
	run bash quickstart.sh
	expect 0 "refused, as it should be"
	[[ "$output" == *"int.pem: OK"* ]]
	[[ "$output" == *"verify OK"* ]]
	[ -f lab/root.pem ] && [ -f lab/int.pem ] && [ -f lab/root.crl ]
	[ ! -e lab/rogue.pem ]
}
