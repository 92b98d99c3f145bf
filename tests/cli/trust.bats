#!/usr/bin/env bats
# keyrite-trust, the endpoint tool: bootstrap by fingerprint; apply
# signed bundles made here with keyrite bundle into a --root-dir with a
# Debian system store (update-ca-certificates with prefixed paths), a PEM
# file, an NSS database and a Java keystore; then real validation of
# leaf chains with openssl, certtool, vfychain and keytool's
# certificates.  Every refusal leaves the whole tree unchanged.  A
# rehearsed rotation ends with remove-retired, after which a chain
# ending only at the old root fails in every store.

load helpers

OLD='pkcs11:token=lab;object=old'
NEW='pkcs11:token=lab;object=new'
EVIL='pkcs11:token=lab;object=evil'

# A leaf under root $1 (key URI $2): int-$3.pem, leaf-$3.pem, chain-$3.pem.
leaf_under() {
	local ca=$1 key=$2 tag=$3
	csr "int-$tag" "/CN=Lab Issuing $tag"
	keyrite root sign --key "$key" --pin-file user.pin --ca "$ca" \
	    --csr "int-$tag.csr" --days 365 --out "int-$tag.pem" >/dev/null
	csr "leaf-$tag" '/CN=www.lab.internal'
	printf '%s\n' 'subjectAltName=DNS:www.lab.internal' \
	    'basicConstraints=critical,CA:FALSE' \
	    'keyUsage=critical,digitalSignature' \
	    'extendedKeyUsage=serverAuth' 'authorityKeyIdentifier=keyid' \
	    'subjectKeyIdentifier=hash' >leaf.ext
	openssl x509 -req -in "leaf-$tag.csr" -CA "int-$tag.pem" \
	    -CAkey "int-$tag.key" -set_serial "0x$(openssl rand -hex 8)" \
	    -days 30 -extfile leaf.ext -out "leaf-$tag.pem" 2>/dev/null
	cat "leaf-$tag.pem" "int-$tag.pem" >"chain-$tag.pem"
}

setup_file() {
	file_setup
	token_setup lab
	for k in old:ec-p384 new:ec-p256 evil:ec-p256; do
		keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
		    --label "${k%%:*}" --type "${k#*:}" >/dev/null
	done
	keyrite root init --key "$OLD" --pin-file user.pin \
	    --subject 'CN=Lab Root 2026,O=Example' --days 3650 \
	    --permitted-dns lab.internal --out old.pem >/dev/null
	keyrite root init --key "$NEW" --pin-file user.pin \
	    --subject 'CN=Lab Root 2036,O=Example' --days 5000 \
	    --permitted-dns lab.internal --out new.pem >/dev/null
	keyrite root init --key "$EVIL" --pin-file user.pin \
	    --subject 'CN=Lab Root 2026,O=Example' --days 3650 \
	    --out evil.pem >/dev/null
	keyrite root cross-sign --key "$OLD" --pin-file user.pin --ca old.pem \
	    --cert new.pem --out cross.pem >/dev/null
	leaf_under old.pem "$OLD" old
	leaf_under new.pem "$NEW" new
	# Bundle 1: the old root.  Bundle 2: the new one announced.
	keyrite bundle build --anchor old.pem:active --expires 90d --out b1 >/dev/null
	keyrite bundle sign b1 --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	keyrite bundle pack b1 --out b1.tar >/dev/null
	keyrite bundle build --anchor old.pem:active --anchor new.pem:next \
	    --cross cross.pem --previous b1 --expires 90d --out b2 >/dev/null
	keyrite bundle sign b2 --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	keyrite bundle sign b2 --key "$NEW" --pin-file user.pin --cert new.pem >/dev/null
	keyrite bundle pack b2 --out b2.tar >/dev/null
	export R="$W/root"
	mkdir -p "$R"
}

setup() { cd "$W"; }

# A server a test started, stopped even when the test failed.
teardown() {
	if [ -f "$W/http.pid" ]; then
		kill "$(cat "$W/http.pid")" 2>/dev/null || true
		rm -f "$W/http.pid"
	fi
}

# Every store keyrite-trust writes on this host (keytool comes with
# openjdk-17-jre-headless, which scripts/install-deps.sh installs).
STORES=system,pem,nss,java NSTORES=4

fpr() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }

# A hash of everything under $R: names, types, modes, sizes, contents.
tree() {
	(cd "$R" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort &&
	    find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}


# Does every store under $R validate leaf-$1 through int-$1?
validates() { kt_validates "$R" "leaf-$1.pem" "int-$1.pem"; }

@test "keyrite-trust links OpenSSL and libcurl, never libsodium, libp11, SoftHSM, jansson, SQLite, libyaml" {
	run ldd "$KEYRITE_BIN/keyrite-trust"
	expect 0 "libcrypto.so"
	[[ "$output" == *"libcurl.so"* ]]
	[[ "$output" == *"libssl.so"* ]]
	for lib in libsodium libp11.so softhsm libjansson libsqlite3 libyaml \
	    libmicrohttpd; do
		[[ "$output" != *"$lib"* ]] || { echo "links $lib"; return 1; }
	done
	# What it asks for itself: OpenSSL's libcrypto, libcurl, libc (and
	# the sanitizers' runtimes in an ASan build).
	run readelf -d "$KEYRITE_BIN/keyrite-trust"
	needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$output" |
	    grep -v -E '^lib(asan|ubsan)\.so' | sort | tr '\n' ' ')
	[ "$needed" = "libc.so.6 libcrypto.so.3 libcurl.so.4 " ]
}

@test "commands need a bootstrap first; usage errors exit 2; every command has --help" {
	run keyrite-trust apply b1.tar --root-dir "$R"
	expect 1 "no state: this host trusts no root yet"
	run keyrite-trust status --root-dir "$R"
	expect 1 "run keyrite-trust bootstrap"
	run keyrite-trust apply --root-dir "$R"
	expect 2 "name the bundle"
	run keyrite-trust bootstrap --root old.pem --root-dir "$R"
	expect 2 "--root and --fingerprint are required"
	run keyrite-trust bootstrap --root old.pem --fingerprint 12ab --root-dir "$R"
	expect 2 "is not a SHA-256"
	run keyrite-trust status --dry-run --root-dir "$R"
	expect 2 "--dry-run is not an option of status"
	run keyrite-trust frob
	expect 2 "unknown command 'frob'"
	for c in bootstrap apply status remove-retired; do
		run keyrite-trust $c --help
		expect 0 "usage: keyrite-trust $c"
		[[ "$output" == *"example:"* ]]
	done
	[ -z "$(ls -A "$R")" ]
}

@test "bootstrap pins the first root by its fingerprint, read out of band" {
	run keyrite-trust bootstrap --root evil.pem --fingerprint "$(fpr old.pem)" \
	    --root-dir "$R"
	expect 1 "not the fingerprint given"
	[[ "$output" == *"do not trust this file"* ]]
	[ ! -e "$R/var/lib/keyrite-trust/state.json" ]
	# As `keyrite root init` prints it: groups of four, upper case.
	grouped=$(fpr old.pem | tr a-f A-F | sed 's/..../& /g; s/ $//')
	run keyrite-trust bootstrap --root old.pem --fingerprint "$grouped" \
	    --root-dir "$R"
	expect 0 "bootstrapped: bundles signed by CN=Lab Root 2026,O=Example"
	jq -e --arg f "$(fpr old.pem)" '.version == 0 and .manifest == null and
	    (.anchors | length) == 1 and .anchors[0].sha256 == $f and
	    .anchors[0].state == "bootstrap"' "$R/var/lib/keyrite-trust/state.json"
	run keyrite-trust bootstrap --root old.pem --fingerprint "$(fpr old.pem)" \
	    --root-dir "$R"
	expect 0 "already bootstrapped"
	run keyrite-trust bootstrap --root new.pem --fingerprint "$(fpr new.pem)" \
	    --root-dir "$R"
	expect 1 "exists already"
}

@test "apply bundle 1 into the Debian store, a PEM file, NSS and Java; leaves validate in each" {
	HOME=/home/tester run keyrite-trust apply b1.tar \
	    --stores "$STORES" --root-dir "$R"
	expect 0 "applied bundle version 1: $NSTORES added, 0 removed in $NSTORES stores"
	f=$(fpr old.pem)
	[ -f "$R/usr/local/share/ca-certificates/keyrite/keyrite-${f:0:16}.crt" ]
	grep -q "keyrite-${f:0:16}" "$R/etc/keyrite/trust.pem"
	certutil -L -d "sql:$R$KT_NSSDB" | grep -q "keyrite-${f:0:16} *C,,"
	keytool -list -keystore "$R/etc/ssl/certs/java/cacerts" \
	    -storepass changeit -alias "keyrite-${f:0:16}" | grep -q trustedCertEntry
	jq -e --argjson n "$NSTORES" '.version == 1 and (.stores | length) == $n' \
	    "$R/var/lib/keyrite-trust/state.json"
	run validates old
	expect 0
	# The new root is not trusted yet.
	run validates new
	[ "$status" -ne 0 ]
	run keyrite-trust status --root-dir "$R"
	expect 0 "OK: every store trusts exactly the anchors it should"
}

@test "apply is idempotent: the same bundle again changes nothing" {
	before=$(tree)
	run keyrite-trust apply b1.tar --root-dir "$R"
	expect 0 "applied already and every store has its anchors: nothing changed"
	[ "$(tree)" = "$before" ]
}

@test "refused, with no change anywhere: an unknown signer, a tampered manifest, equal or older versions, skips, forks, expiry" {
	before=$(tree)
	# Signed by a key this host does not trust, under the old root's name.
	keyrite bundle build --anchor evil.pem:active --previous b1 --expires 90d \
	    --out be >/dev/null
	keyrite bundle sign be --key "$EVIL" --pin-file user.pin --cert evil.pem >/dev/null
	run keyrite-trust apply be --root-dir "$R"
	expect 1 "signed by 0 trusted keys, 1 required"
	[[ "$output" == *"refused; nothing was changed"* ]]
	[ "$(tree)" = "$before" ]
	# A tampered manifest.
	cp -r b2 bt
	sed -i 's/"next"/"active"/' bt/manifest.json
	run keyrite-trust apply bt --root-dir "$R"
	expect 1 "signed by 0 trusted keys"
	[ "$(tree)" = "$before" ]
	# An equal version that is not the bundle applied (a replay of
	# another version 1).
	keyrite bundle build --anchor old.pem:active --expires 90d --out b1x >/dev/null
	keyrite bundle sign b1x --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	run keyrite-trust apply b1x --root-dir "$R"
	expect 1 "rollback or replay is refused"
	[ "$(tree)" = "$before" ]
	# A version that skips one.
	keyrite bundle build --anchor old.pem:active --previous b2 --expires 90d \
	    --out b3skip >/dev/null
	keyrite bundle sign b3skip --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	run keyrite-trust apply b3skip --root-dir "$R"
	expect 1 "skips"
	[ "$(tree)" = "$before" ]
	# A fork: version 2, but of another version 1.
	keyrite bundle build --anchor old.pem:active --previous b1x --expires 90d \
	    --out b2fork >/dev/null
	keyrite bundle sign b2fork --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	run keyrite-trust apply b2fork --root-dir "$R"
	expect 1 "a fork is refused"
	[ "$(tree)" = "$before" ]
	# Expired.
	KEYRITE_NOW=$(( $(date +%s) + 91 * 86400 )) run keyrite-trust apply b2.tar \
	    --root-dir "$R"
	expect 1 "the bundle expired at"
	[ "$(tree)" = "$before" ]
	# A hostile archive.
	head -c 1000 b2.tar >cut.tar
	run keyrite-trust apply cut.tar --root-dir "$R"
	expect 1 "truncated"
	[ "$(tree)" = "$before" ]
}

@test "apply --dry-run verifies and shows the plan, and changes nothing" {
	before=$(tree)
	run keyrite-trust apply b2.tar --stores system,floppy --root-dir "$R"
	expect 2 "'floppy' is not system, debian, rhel, pem, nss or java"
	run keyrite-trust apply b2.tar --dry-run --root-dir "$R"
	expect 0 "dry run: $NSTORES to add, 0 to remove in $NSTORES stores; nothing was changed"
	[[ "$output" == *"would add debian"* ]]
	[[ "$output" == *"would add nss"* ]]
	[ "$(tree)" = "$before" ]
}

@test "apply bundle 2 from a URL: the new root is trusted; its leaves validate everywhere" {
	port=$(free_port)
	mkdir -p www/trust && cp b2.tar www/trust/bundle.tar
	python3 -m http.server "$port" --bind 127.0.0.1 --directory www \
	    >http.log 2>&1 &
	pid=$!
	echo "$pid" >"$W/http.pid"
	for _ in $(seq 50); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/trust/bundle.tar" && break
		sleep 0.1
	done
	run keyrite-trust apply "http://127.0.0.1:$port/trust/nope.tar" --root-dir "$R"
	expect 1 "HTTP status 404"
	run keyrite-trust apply "http://127.0.0.1:$port/trust/bundle.tar" --root-dir "$R"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -f "$W/http.pid"
	expect 0 "applied bundle version 2: $NSTORES added, 0 removed in $NSTORES stores"
	# This host trusted only the old root: its signature counts.
	[[ "$output" == *"signed by 1 trusted key;"* ]]
	run validates new
	expect 0
	run validates old
	expect 0
	run keyrite-trust status --root-dir "$R" --leaf leaf-new.pem --chain int-new.pem
	expect 0 "OK: every store trusts exactly"
	[ "$(grep -c 'chain built to a trusted root' <<<"$output")" -eq "$NSTORES" ]
}

@test "status finds drift by building chains: an anchor deleted from one store is exit 1, and the JSON says where" {
	f=$(fpr new.pem)
	certutil -D -d "sql:$R$KT_NSSDB" -n "keyrite-${f:0:16}"
	run keyrite-trust status --json --root-dir "$R"
	[ "$status" -eq 1 ]
	jq -e --arg f "$f" '.ok == false and .version == 2 and
	    ([.stores[] | select(.ok == false) | .store] ==
	     ["nss:/home/tester/.pki/nssdb"]) and
	    ([.stores[] | select(.store | startswith("nss:")) | .anchors[] |
	      select(.status == "missing") | .sha256] == [$f])' <<<"$output"
	# Trust flags taken away: the entry is there, no chain is built.
	keyrite-trust apply b2.tar --root-dir "$R" >/dev/null
	certutil -M -d "sql:$R$KT_NSSDB" -n "keyrite-${f:0:16}" -t ',,'
	run keyrite-trust status --json --root-dir "$R"
	[ "$status" -eq 1 ]
	jq -e '[.stores[].anchors[] | select(.status == "untrusted")] | length == 1' <<<"$output"
	# A certificate removed from the regenerated Debian bundle.
	keyrite-trust apply b2.tar --root-dir "$R" >/dev/null || true
	certutil -D -d "sql:$R$KT_NSSDB" -n "keyrite-${f:0:16}"
	run keyrite-trust apply b2.tar --root-dir "$R"
	expect 0 "1 added, 0 removed"
	run keyrite-trust status --root-dir "$R"
	expect 0 "OK"
	cp "$R/etc/keyrite/trust.pem" pem.bak
	openssl x509 -in old.pem >"$R/etc/keyrite/trust.pem"
	run keyrite-trust status --root-dir "$R"
	expect 1 "DRIFT"
	[[ "$output" == *"missing   keyrite-${f:0:16}"* ]]
	cp pem.bak "$R/etc/keyrite/trust.pem"
	run keyrite-trust status --root-dir "$R"
	expect 0 "OK"
}

@test "rotation: retire the old root; after remove_after, remove-retired; a chain ending only at the old root fails everywhere" {
	at=$(( $(date +%s) + 12 ))
	keyrite bundle build --anchor old.pem:retiring --anchor new.pem:active \
	    --cross cross.pem --previous b2 --expires 90d \
	    --remove-after "$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ)" --out b3 >/dev/null
	keyrite bundle sign b3 --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	keyrite bundle sign b3 --key "$NEW" --pin-file user.pin --cert new.pem >/dev/null
	keyrite bundle pack b3 --out b3.tar >/dev/null
	run keyrite-trust apply b3.tar --root-dir "$R"
	expect 0 "applied bundle version 3: 0 added, 0 removed"
	run keyrite-trust status --json --root-dir "$R"
	expect 0
	jq -e '[.anchors[] | select(.state == "retiring" and .due == false)] | length == 1' <<<"$output"
	# Not due yet: nothing changes.
	before=$(tree)
	run keyrite-trust remove-retired --root-dir "$R"
	expect 0 "nothing is due: nothing changed"
	[ "$(tree)" = "$before" ]
	run validates old
	expect 0
	while [ "$(date +%s)" -le "$at" ]; do sleep 1; done
	run keyrite-trust remove-retired --dry-run --root-dir "$R"
	expect 0 "would remove debian"
	[ "$(tree)" = "$before" ]
	run keyrite-trust remove-retired --root-dir "$R"
	expect 0 "removed 1 retired anchor: $NSTORES entries removed"
	f=$(fpr old.pem)
	[ ! -e "$R/usr/local/share/ca-certificates/keyrite/keyrite-${f:0:16}.crt" ]
	# Every store: the old root's chain fails, the new root's validates.
	run openssl verify -CAfile "$R/etc/ssl/certs/ca-certificates.crt" \
	    -untrusted int-old.pem leaf-old.pem
	[ "$status" -ne 0 ]
	run certtool --verify --load-ca-certificate "$R/etc/keyrite/trust.pem" \
	    --infile chain-old.pem
	[[ "$output" != *"Chain verification output: Verified"* ]]
	run vfychain -d "sql:$R$KT_NSSDB" -pp -u 1 -a leaf-old.pem -a int-old.pem
	[[ "$output" != *"Chain is good"* ]]
	keytool -J-Duser.language=en -list -rfc -keystore \
	    "$R/etc/ssl/certs/java/cacerts" -storepass changeit >java.out
	run openssl verify -CAfile java.out -untrusted int-old.pem leaf-old.pem
	[ "$status" -ne 0 ]
	run validates new
	expect 0
	run keyrite-trust status --root-dir "$R" --leaf chain-old.pem
	expect 1 "DRIFT"
	run keyrite-trust status --root-dir "$R" --leaf chain-new.pem
	expect 0 "OK"
	jq -e --arg f "$f" '[.anchors[].sha256] | index($f) == null' \
	    "$R/var/lib/keyrite-trust/state.json"
	# Once more: nothing left to do.
	before=$(tree)
	run keyrite-trust remove-retired --root-dir "$R"
	expect 0 "nothing is due"
	[ "$(tree)" = "$before" ]
	# The old root no longer signs for this host.
	keyrite bundle build --anchor old.pem:active --previous b3 --expires 90d \
	    --out b4old >/dev/null
	keyrite bundle sign b4old --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	run keyrite-trust apply b4old --root-dir "$R"
	expect 1 "signed by 0 trusted keys"
	[ "$(tree)" = "$before" ]
}

@test "a bad state file is refused with the member named" {
	cp "$R/var/lib/keyrite-trust/state.json" state.bak
	jq '.version = 7' state.bak >"$R/var/lib/keyrite-trust/state.json"
	run keyrite-trust status --root-dir "$R"
	expect 1 "state.json: version: 7, but the manifest is version 3"
	jq '.anchors[0].state = "revoked"' state.bak >"$R/var/lib/keyrite-trust/state.json"
	run keyrite-trust apply b3.tar --root-dir "$R"
	expect 1 "anchors[0]: state 'revoked' is not bootstrap, next, active or retiring"
	cp state.bak "$R/var/lib/keyrite-trust/state.json"
	run keyrite-trust status --root-dir "$R"
	expect 0
}
