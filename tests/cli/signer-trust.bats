#!/usr/bin/env bats
# keyrited trust publish and the /trust/ paths of the publication
# listener: bundles made with keyrite bundle build/sign/pack (as in
# bundle.bats) under the signer's root and a second root, published
# while the daemon runs and fetched back with curl byte for byte; the
# refusals (wrong signer, tampered, skipped version, fork, expired,
# same version) leave the publication tree as it was; paths that try
# to leave the tree get a 404.

load helpers

OLD='pkcs11:token=lab;object=root'
NEW='pkcs11:token=lab;object=new'
EVIL='pkcs11:token=lab;object=evil'

setup_file() {
	file_setup
	kd_ca_setup
	for k in new evil; do
		keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
		    --label "$k" --type ec-p256 >/dev/null
	done
	keyrite root init --key "$NEW" --pin-file user.pin \
	    --subject 'CN=Test Root 2' --days 3650 --permitted-dns lab.internal \
	    --permitted-ip 10.0.0.0/8 --permitted-ip 127.0.0.1/32 \
	    --out new.pem >/dev/null
	# Another key under the signer's root's very name.
	keyrite root init --key "$EVIL" --pin-file user.pin \
	    --subject 'CN=Test Root' --days 3650 --permitted-dns lab.internal \
	    --out evil.pem >/dev/null
	keyrite root cross-sign --key "$OLD" --pin-file user.pin --ca root.pem \
	    --cert new.pem --out cross-new.pem >/dev/null
	keyrite root cross-sign --key "$NEW" --pin-file user.pin --ca new.pem \
	    --cert root.pem --out cross-old.pem >/dev/null
	# v1: the signer's root active, the new one next; signed by both.
	keyrite bundle build --anchor root.pem:active --anchor new.pem:next \
	    --cross cross-new.pem --cross cross-old.pem --expires 90d \
	    --out b1 >/dev/null
	bsign b1 "$OLD" root.pem
	bsign b1 "$NEW" new.pem
	keyrite bundle pack b1 --out b1.tar >/dev/null
	# v2: the new root active, the old one retiring; signed by the new
	# root alone, which the home trusts only as an anchor of v1.
	keyrite bundle build --anchor root.pem:retiring --anchor new.pem:active \
	    --cross cross-new.pem --previous b1 --expires 90d \
	    --remove-after 2099-01-01 --out b2 >/dev/null
	bsign b2 "$NEW" new.pem
	keyrite bundle pack b2 --out b2.tar >/dev/null
}

setup() { cd "$W"; }

teardown() { kd_stop || true; }

# bsign DIR KEY CERT: one signature.
bsign() {
	keyrite bundle sign "$1" --key "$2" --pin-file "$W/user.pin" \
	    --cert "$3" >/dev/null
}

# Every file of the publication tree with its SHA-256 and mode, and
# every directory: what a refusal must leave as it was.
tree_state() {
	[ -d "$KD/publish/trust" ] || { echo none; return; }
	(cd "$KD/publish/trust" && find . -type d | LC_ALL=C sort &&
	    find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2 &&
	    find . -type f -printf '%p %m %s\n' | LC_ALL=C sort)
}

# refused MESSAGE BUNDLE [env...]: publish fails with exit 1 and
# MESSAGE, and the tree is unchanged.
refused() {
	local msg=$1 bundle=$2 before
	shift 2
	before=$(tree_state)
	run env "$@" keyrited trust publish --home "$KD" "$bundle"
	expect 1 "$msg"
	grep -q "^keyrited trust publish: " <<<"$output"
	if [ "$(tree_state)" != "$before" ]; then
		echo "the publication tree changed:"
		diff <(echo "$before") <(tree_state)
		return 1
	fi
}

# get PATH: GET $KD_PUB/PATH into $BATS_TEST_TMPDIR/got, headers into
# $BATS_TEST_TMPDIR/hdr; sets code.
get() {
	rm -f "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/hdr"
	code=$(curl -s --path-as-is --max-time 10 -D "$BATS_TEST_TMPDIR/hdr" \
	    -o "$BATS_TEST_TMPDIR/got" -w '%{http_code}' "$KD_PUB$1" "${@:2}")
}

# header NAME: its value in the last get's response.
header() {
	grep -i "^$1:" "$BATS_TEST_TMPDIR/hdr" | head -1 | cut -d' ' -f2- |
	    tr -d '\r'
}

metric() {
	curl -s "$KD_PUB/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

sha() { sha256sum "$1" | cut -c1-64; }

@test "nothing published: /trust/ answers 404 JSON; the gauge is 0" {
	kd_start
	get /trust/bundle.tar
	[ "$code" = 404 ]
	[ "$(header Content-Type)" = application/json ]
	jq -e '.error == "not_found" and (.message | test("no trust bundle is published yet"))' \
	    "$BATS_TEST_TMPDIR/got"
	get /trust/history/
	[ "$code" = 404 ]
	[ "$(metric keyrited_trust_bundle_version)" = 0 ]
}

@test "a bundle no trusted key signed is refused before anything is published" {
	keyrite bundle build --anchor evil.pem:active --expires 90d --out be >/dev/null
	bsign be "$EVIL" evil.pem
	keyrite bundle pack be --out be.tar >/dev/null
	refused "be.tar: manifest.json: signed by 0 trusted keys, 1 required (trusted here: $KD/root.pem; CN=Test Root: a key not trusted here)" be.tar
	[ ! -e "$KD/publish/trust/manifest.json" ]
	[ ! -e "$KD/publish/trust/history/1" ]
}

@test "publish v1 while the daemon runs: every URL serves the bundle's bytes" {
	kd_start
	run keyrited trust publish --home "$KD" b1.tar
	expect 0 "published b1.tar as version 1"
	[[ "$output" == *"manifest SHA-256 $(sha b1/manifest.json)"* ]]
	[[ "$output" == *"signed by CN=Test Root"$'\n'* ]]
	[[ "$output" == *"served at $KD_PUB/trust/bundle.tar"* ]]
	# The newest, and the same under history/1/.
	for p in /trust /trust/history/1; do
		get $p/bundle.tar
		[ "$code" = 200 ]
		cmp "$BATS_TEST_TMPDIR/got" b1.tar
		[ "$(header Content-Type)" = application/x-tar ]
		[ "$(header ETag)" = "\"$(sha b1.tar)\"" ]
		[ -n "$(header Last-Modified)" ]
		get $p/manifest.json
		[ "$code" = 200 ]
		cmp "$BATS_TEST_TMPDIR/got" b1/manifest.json
		[ "$(header Content-Type)" = application/json ]
		get $p/manifest.json.sig
		[ "$code" = 200 ]
		cmp "$BATS_TEST_TMPDIR/got" b1/manifest.json.sig
		[ "$(header Content-Type)" = application/pkcs7-signature ]
	done
	# The newest must be revalidated; a version, never.
	get /trust/manifest.json
	[ "$(header Cache-Control)" = no-cache ]
	# Its ETag is the manifest's SHA-256, which the next bundle names.
	[ "$(header ETag)" = "\"$(sha b1/manifest.json)\"" ]
	get /trust/history/1/manifest.json
	[ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ]
	# A client that has it gets 304 and no body.
	get /trust/bundle.tar -H "If-None-Match: \"$(sha b1.tar)\""
	[ "$code" = 304 ]
	[ ! -s "$BATS_TEST_TMPDIR/got" ]
	get /trust/bundle.tar -H 'If-None-Match: "0000"'
	[ "$code" = 200 ]
	# HEAD: the headers, no body.
	run curl -s -I "$KD_PUB/trust/bundle.tar"
	[[ "$output" == *"Content-Length: $(stat -c %s b1.tar)"* ]]
	# The index.
	get /trust/history/
	[ "$code" = 200 ]
	[ "$(header Content-Type)" = application/json ]
	jq -e --arg m "$(sha b1/manifest.json)" --arg b "$(sha b1.tar)" \
	    '.latest == 1 and (.versions | length) == 1 and
	    .versions[0].version == 1 and .versions[0].manifest_sha256 == $m and
	    .versions[0].bundle_sha256 == $b and
	    .versions[0].path == "/trust/history/1/"' "$BATS_TEST_TMPDIR/got"
	get /trust/history
	[ "$code" = 200 ]
	# What was fetched verifies on its own.
	curl -s -o fetched1.tar "$KD_PUB/trust/bundle.tar"
	run keyrite bundle verify fetched1.tar --trust root.pem
	expect 0 "OK"
	[ "$(metric keyrited_trust_bundle_version)" = 1 ]
	[ "$(metric keyrited_trust_bundle_expires_timestamp_seconds)" = \
	    "$(date -d "$(jq -r .expires b1/manifest.json)" +%s)" ]
}

@test "publishing v1 again, or another v1, is refused and changes nothing" {
	refused "b1.tar: version 1 is published already" b1.tar
	keyrite bundle build --anchor root.pem:active --expires 90d --out b1x >/dev/null
	bsign b1x "$OLD" root.pem
	refused "does not follow the published version 1: version 1 is not newer than the previous bundle's 1: a rollback or replay is refused" b1x
}

@test "refused: a skipped version, a fork, an expired bundle" {
	# v3 after v2, while v1 is the last published.
	keyrite bundle build --anchor new.pem:active --previous b2 \
	    --expires 90d --out b3 >/dev/null
	bsign b3 "$NEW" new.pem
	refused "does not follow the published version 1: version 3 skips after the previous bundle's 1" b3
	# A v2 that names another v1.
	keyrite bundle build --anchor root.pem:active --expires 90d --out f1 >/dev/null
	bsign f1 "$OLD" root.pem
	keyrite bundle build --anchor root.pem:active --anchor new.pem:next \
	    --previous f1 --expires 90d --out f2 >/dev/null
	bsign f2 "$OLD" root.pem
	refused "does not follow the published version 1: version 2 names another previous manifest than the one given: a fork is refused" f2
	# A good v2 that has expired by the time it is published.
	keyrite bundle build --anchor root.pem:active --anchor new.pem:next \
	    --previous b1 --expires 1d --out e2 >/dev/null
	bsign e2 "$OLD" root.pem
	refused "e2: the bundle expired at" e2 KEYRITE_NOW=$(( $(date +%s) + 2 * 86400 ))
}

@test "refused: a tampered manifest, a changed file, an evil signer, not a bundle" {
	cp -r b2 t1
	sed -i 's/"retiring"/"active"/' t1/manifest.json
	refused "t1: manifest.json: signed by 0 trusted keys, 1 required (trusted here: $KD/root.pem and the anchors of the published version 1; CN=Test Root 2: NOT VALID: made over another manifest.json (changed since it was signed))" t1
	cp -r b2 t2
	echo x >>t2/anchors.pem
	refused "t2: anchors.pem: its SHA-256 is not the one the manifest gives" t2
	# Signed by a key named like the home's root, but not its key.
	keyrite bundle build --anchor root.pem:retiring --anchor new.pem:active \
	    --previous b1 --expires 90d --remove-after 2099-01-01 --out t3 >/dev/null
	bsign t3 "$EVIL" evil.pem
	refused "t3: manifest.json: signed by 0 trusted keys" t3
	head -c 3000 b2.tar >t4.tar
	refused "t4.tar" t4.tar
	refused "nope.tar: No such file" nope.tar
}

@test "publish v2 from its directory while the daemon runs: the newest changes, history/1 stays" {
	kd_start
	get /trust/manifest.json
	cmp "$BATS_TEST_TMPDIR/got" b1/manifest.json
	etag1=$(header ETag)
	run keyrited trust publish --home "$KD" b2
	expect 0 "published b2 as version 2"
	[[ "$output" == *"signed by CN=Test Root 2"* ]]
	# The directory is published as the archive keyrite bundle pack makes.
	get /trust/bundle.tar
	cmp "$BATS_TEST_TMPDIR/got" b2.tar
	get /trust/manifest.json -H "If-None-Match: $etag1"
	[ "$code" = 200 ]
	cmp "$BATS_TEST_TMPDIR/got" b2/manifest.json
	get /trust/manifest.json.sig
	cmp "$BATS_TEST_TMPDIR/got" b2/manifest.json.sig
	for f in bundle.tar manifest.json manifest.json.sig; do
		get /trust/history/1/$f
		[ "$code" = 200 ]
		cmp "$BATS_TEST_TMPDIR/got" "$([ $f = bundle.tar ] && echo b1.tar || echo b1/$f)"
		get /trust/history/2/$f
		[ "$code" = 200 ]
		cmp "$BATS_TEST_TMPDIR/got" "$([ $f = bundle.tar ] && echo b2.tar || echo b2/$f)"
	done
	get /trust/history/
	jq -e --arg m1 "$(sha b1/manifest.json)" --arg m2 "$(sha b2/manifest.json)" \
	    --arg b2 "$(sha b2.tar)" \
	    '.latest == 2 and ([.versions[].version] == [1, 2]) and
	    .versions[0].manifest_sha256 == $m1 and
	    .versions[1].manifest_sha256 == $m2 and
	    .versions[1].bundle_sha256 == $b2' "$BATS_TEST_TMPDIR/got"
	get /trust/history/3/bundle.tar
	[ "$code" = 404 ]
	jq -e '.message == "version 3 is not published"' "$BATS_TEST_TMPDIR/got"
	# An endpoint holding v1 accepts what is served as its next.
	curl -s -o prev.tar "$KD_PUB/trust/history/1/bundle.tar"
	curl -s -o next.tar "$KD_PUB/trust/bundle.tar"
	run keyrite bundle verify next.tar --trust new.pem --previous prev.tar
	expect 0 "follows the previous bundle"
	[ "$(metric keyrited_trust_bundle_version)" = 2 ]
	# The tree on disk.
	[ "$(ls "$KD/publish/trust/history")" = "$(printf '1\n2\nindex.json')" ]
	cmp "$KD/publish/trust/bundle.tar" b2.tar
}

@test "v3 signed only by the new root (an anchor of v2); the home's root stays trusted" {
	keyrite bundle build --anchor new.pem:active --previous b2 \
	    --expires 90d --out c3 >/dev/null
	bsign c3 "$NEW" new.pem
	run keyrited trust publish --home "$KD" c3
	expect 0 "published c3 as version 3"
	# The home's own root stays trusted whatever the bundles say.
	keyrite bundle build --anchor new.pem:active --anchor root.pem:next \
	    --previous c3 --expires 90d --out c4 >/dev/null
	bsign c4 "$OLD" root.pem
	run keyrited trust publish --home "$KD" c4
	expect 0 "published c4 as version 4"
}

@test "paths that leave the tree, or are not versions, are 404 JSON" {
	kd_start
	for p in /trust/../keyrited.yaml /trust/%2e%2e/keyrited.yaml \
	    /trust/history/../../keyrited.yaml \
	    /trust/history/%2e%2e/%2e%2e/keyrited.yaml \
	    /trust/history/1/../../../keyrited.yaml \
	    /trust/history/..%2f..%2f..%2fkeyrited.yaml \
	    /trust/history/99999999999999999999/bundle.tar \
	    /trust/history/9007199254740992/bundle.tar \
	    /trust/history/01/bundle.tar /trust/history/0/bundle.tar \
	    /trust/history/-1/bundle.tar /trust/history/1/ \
	    /trust/history/1/anchors.pem /trust/history/1/index.json \
	    /trust/history/1//bundle.tar /trust//bundle.tar \
	    /trust/index.json /trust/bundle.tar/ /trust/BUNDLE.TAR \
	    /trust/history/index.json/ /trust/anchors.pem /trust/ /trust; do
		get "$p"
		if [ "$code" != 404 ]; then
			echo "$p: HTTP $code"
			return 1
		fi
		jq -e '.error == "not_found"' "$BATS_TEST_TMPDIR/got" >/dev/null
		! grep -q public_url "$BATS_TEST_TMPDIR/got"
	done
	# The largest version is a path, just not published.
	get /trust/history/9007199254740991/bundle.tar
	[ "$code" = 404 ]
	jq -e '.message == "version 9007199254740991 is not published"' "$BATS_TEST_TMPDIR/got"
	# The index by its file name too.
	get /trust/history/index.json
	[ "$code" = 200 ]
	run curl -s -X POST "$KD_PUB/trust/bundle.tar"
	[[ "$output" == *method_not_allowed* ]]
}

@test "trust publish: usage errors exit 2; --help has an example" {
	run keyrited trust publish --help
	expect 0 "usage: keyrited trust publish"
	[[ "$output" == *"example:"* ]]
	run keyrited trust publish b1.tar
	expect 2 "--home is required"
	run keyrited trust publish --home "$KD"
	expect 2 "name the bundle"
	run keyrited trust publish --home "$KD" b1.tar b2.tar
	expect 2 "unexpected argument 'b2.tar'"
	run keyrited trust frob
	expect 2 "unknown subcommand 'frob'"
	run keyrited trust publish --home "$W/nohome" b1.tar
	expect 1 "is not a keyrited home"
	run keyrited --help
	[[ "$output" == *"  trust "* ]]
}
