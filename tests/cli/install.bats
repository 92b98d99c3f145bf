#!/usr/bin/env bats
# make install / uninstall honour PREFIX and DESTDIR, and the installed
# keyrite finds its installed profiles (DATADIR follows PREFIX, never
# DESTDIR, and a changed PREFIX rebuilds what depends on it).  keyrited,
# its man page and its systemd unit (in DATADIR, not enabled) go too.

load helpers

setup_file() {
	export I="$BATS_FILE_TMPDIR"
}

@test "make install PREFIX=... puts everything in place and keyrite finds its profiles" {
	run make -s -C "$KEYRITE_TOP" BUILD="$I/build" PREFIX="$I/prefix" install
	expect 0
	p="$I/prefix"
	[ -x "$p/bin/keyrite" ]
	for f in root intermediate tls-server tls-client; do
		[ -f "$p/share/keyrite/profiles/$f.yaml" ]
	done
	[ -f "$p/share/keyrite/ceremony/root-init.yaml" ]
	[ -f "$p/share/keyrite/ceremony/rotate-root.yaml" ]
	[ -f "$p/share/man/man1/keyrite.1" ]
	[ -f "$p/share/doc/keyrite/quickstart.md" ]
	# The online signer: binary, man page, docs, and the systemd unit
	# (installed as data, not into systemd's directories), which names
	# the installed binary.
	[ -x "$p/bin/keyrited" ]
	[ -f "$p/share/man/man8/keyrited.8" ]
	# The endpoint tool.
	[ -x "$p/bin/keyrite-trust" ]
	[ -f "$p/share/man/man8/keyrite-trust.8" ]
	[ -f "$p/share/doc/keyrite/trust.md" ]
	[ -f "$p/share/doc/keyrite/signer.md" ]
	[ -f "$p/share/doc/keyrite/api.md" ]
	[ -f "$p/share/keyrite/keyrited.service" ]
	grep -q "^ExecStart=$p/bin/keyrited serve --home /var/lib/keyrited\$" \
	    "$p/share/keyrite/keyrited.service"
	grep -q "^ExecStartPre=$p/bin/keyrited serve -n " \
	    "$p/share/keyrite/keyrited.service"
	[ "$(grep -c /usr/local/bin "$p/share/keyrite/keyrited.service")" = 0 ]
	[ ! -e "$p/lib/systemd" ]
	run "$p/bin/keyrited" --help
	expect 0 "usage: keyrited SUBCOMMAND"
	run "$p/bin/keyrited" serve --help
	expect 0 "--check"
	# The installed binary looks in the installed profile directory.
	cd "$BATS_TEST_TMPDIR"
	run env -u KEYRITE_PROFILE_DIR "$p/bin/keyrite" root sign \
	    --key 'pkcs11:token=x;object=y' --ca nope.pem --csr nope.csr \
	    --profile nosuch --dry-run
	expect 1 "$p/share/keyrite/profiles/nosuch.yaml"
	run env -u KEYRITE_PROFILE_DIR "$p/bin/keyrite" ceremony plan \
	    "$p/share/keyrite/ceremony/root-init.yaml"
	expect 0 "root-init"
}

@test "make uninstall removes what install put there" {
	run make -s -C "$KEYRITE_TOP" BUILD="$I/build" PREFIX="$I/prefix" uninstall
	expect 0
	run find "$I/prefix" -type f
	[ -z "$output" ]
}

@test "DESTDIR stages the install; the binary still uses PREFIX's paths" {
	run make -s -C "$KEYRITE_TOP" BUILD="$I/build" PREFIX=/usr \
	    DESTDIR="$I/dest" install
	expect 0
	[ -x "$I/dest/usr/bin/keyrite" ]
	[ -f "$I/dest/usr/share/keyrite/profiles/root.yaml" ]
	[ -x "$I/dest/usr/bin/keyrited" ]
	[ -f "$I/dest/usr/share/man/man8/keyrited.8" ]
	# The unit names the binary where it will run, not the staging area.
	grep -q '^ExecStart=/usr/bin/keyrited serve ' \
	    "$I/dest/usr/share/keyrite/keyrited.service"
	[ "$(grep -c "$I/dest" "$I/dest/usr/share/keyrite/keyrited.service")" = 0 ]
	# Rebuilt for the new PREFIX: the profile path is /usr's.
	grep -q '/usr/share/keyrite/profiles' "$I/dest/usr/bin/keyrite"
	# (`! grep` would not fail a bats test: set -e ignores negations.)
	[ "$(grep -c "$I/prefix/share/keyrite" "$I/dest/usr/bin/keyrite")" = 0 ]
	run make -s -C "$KEYRITE_TOP" BUILD="$I/build" PREFIX=/usr \
	    DESTDIR="$I/dest" uninstall
	expect 0
	run find "$I/dest" -type f
	[ -z "$output" ]
}
