#!/usr/bin/env bats
# The rotation ceremony: rehearse root-init, then rotate-root against it
# (--input), and check what it made as an auditor and an endpoint would:
# the transcript verifies, the new root has the old root's name
# constraints exactly, each cross-certificate verifies under its issuer,
# the bundle verifies under either root alone (keyrite and openssl
# cms), the new key's backup restores.  Then the new root key, still in
# the rehearsal's token under the officers' quorum, signs an
# intermediate (keyrited init, file key) whose leaf validates at an
# endpoint that trusts only the old root through the cross-certificate
# (OpenSSL, GnuTLS, NSS), fails without it, and validates at one that
# trusts the new root.  The plain commands make what the ceremony makes.
# Last, an endpoint that applied bundle-1 takes a rehearsed rotation
# with keyrite-trust: the new root's leaf validates through the cross
# before, directly after, and once the old root is retired and
# remove-retired has run, a chain ending at the old root fails.

load helpers

OLD='pkcs11:token=rehearsal;object=root-2026'
NEW='pkcs11:token=rehearsal;object=root-2036'

setup_file() {
	file_setup
	export SCRIPTS="$KEYRITE_TOP/ceremony/scripts"
	keyrite ceremony rehearse "$SCRIPTS/root-init.yaml" --out R1 >r1.log 2>&1
	keyrite ceremony rehearse "$SCRIPTS/rotate-root.yaml" --out R2 \
	    --input R1 >r2.log 2>&1 || true
	# The rehearsal's participants, for plain commands on its token.
	for p in ann ben carol dave erin; do
		jq -j ".passphrases[\"$p\"]" R2/rehearsal-secrets.json >"$p.pass"
	done
	export QUORUM="--officer R1/officers/ann.cred --officer R1/officers/ben.cred --passphrase-file ann=ann.pass --passphrase-file ben=ben.pass"
}

setup() { cd "$W"; }

# A plain command on the rotation rehearsal's token, activated by the
# quorum that root-init set up.
on_token() {
	SOFTHSM2_CONF="$W/R2/rehearsal-hsm/softhsm2.conf" "$@"
}

# The SKI of certificate $1.
ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' '; }

@test "rotate-root rehearses end to end after root-init and makes everything" {
	run cat r2.log
	expect 0 "rehearsal completed"
	[[ "$output" == *"name constraints, copied exactly from root.pem:"* ]]
	[[ "$output" == *"bundle/manifest.json.sig now carries 2 signatures"* ]]
	[[ "$output" == *"bundle verifies trusting only root.pem: version 1, signed by 1 trusted key"* ]]
	[[ "$output" == *"bundle verifies trusting only root-2036.pem"* ]]
	# Each key signs only after its fingerprint is shown.
	[ "$(grep -c 'with the key whose public key SHA-256 is' <<<"$output")" -eq 6 ]
	for f in root-2036.pem root-2036.crl cross-2036-by-2026.pem \
	    cross-2026-by-2036.pem backup-2036/backup.blob bundle/manifest.json \
	    bundle/manifest.json.sig bundle.tar report.html; do
		[ -f "R2/$f" ] || { echo "R2/$f missing"; false; }
	done
	[ "$(ls R2/backup-2036/share-*.txt | wc -l)" -eq 5 ]
	# The earlier rehearsal is untouched.
	run keyrite ceremony verify R1
	expect 0 "status: completed"
	[ ! -e R1/root-2036.pem ]
}

@test "plan shows the rotation's steps, actions and parameters" {
	run keyrite ceremony plan "$SCRIPTS/rotate-root.yaml"
	expect 0 "Example Lab root rotation"
	for a in keygen root-selfsign cross-sign backup-create crl \
	    bundle-build bundle-sign bundle-verify bundle-pack; do
		[[ "$output" == *"action **$a**"* ]] || { echo "no $a"; false; }
	done
	[[ "$output" == *"constraints\\_from: \`root.pem\`"* ]]
	[[ "$output" == *"expires: \`90d\`"* ]]
	[[ "$output" == *"output: \`bundle/manifest.json\`"* ]]
	[[ "$output" == *"output: \`bundle.tar\`"* ]]
}

@test "the rotation transcript verifies, pinned to root-init's officers, and catches a changed bundle" {
	run keyrite ceremony verify R2 --officers R1/officers/officers.json
	expect 0 "transcript verifies (rehearsal 'rotate-root')"
	[[ "$output" == *"status: completed"* ]]
	[[ "$output" =~ signatures:\ 2 ]]
	# Each signature on the bundle is recorded with the signer's key.
	[ "$(grep -c '"text":"bundle/manifest.json signed by' R2/transcript.jsonl)" -eq 2 ]
	grep -q '"text":"bundle verifies trusting only root.pem' R2/transcript.jsonl
	for f in bundle/manifest.json bundle.tar cross-2036-by-2026.pem; do
		rm -rf T; cp -r R2 T
		echo x >>"T/$f"
		run keyrite ceremony verify T
		expect 1 "$f"
	done
}

@test "the new root has the old root's name constraints exactly, and its own name and key" {
	old=$(openssl x509 -in R1/root.pem -noout -ext nameConstraints)
	new=$(openssl x509 -in R2/root-2036.pem -noout -ext nameConstraints)
	[[ "$old" == *"critical"* && "$old" == *"DNS:lab.internal"* && "$old" == *"IP:10.0.0.0/255.0.0.0"* ]]
	[ "$old" = "$new" ]
	# Byte for byte: the extension's DER.
	ncder() { openssl x509 -in "$1" -outform DER | openssl asn1parse -inform DER |
	    grep -A2 'X509v3 Name Constraints' | tail -1 | sed 's/.*\[HEX DUMP\]://'; }
	[ -n "$(ncder R1/root.pem)" ]
	[ "$(ncder R1/root.pem)" = "$(ncder R2/root-2036.pem)" ]
	run openssl verify -x509_strict -CAfile R2/root-2036.pem R2/root-2036.pem
	expect 0 "OK"
	[ "$(openssl x509 -in R2/root-2036.pem -noout -subject)" = \
	    "subject=CN = Example Lab Root 2036, O = Example" ]
	[ "$(openssl x509 -in R1/root.pem -noout -pubkey)" != \
	    "$(openssl x509 -in R2/root-2036.pem -noout -pubkey)" ]
	run openssl crl -in R2/root-2036.crl -CAfile R2/root-2036.pem -verify -noout
	expect 0 "verify OK"
}

@test "both cross-certificates verify under their issuers and certify the other root's name, key and constraints" {
	run openssl verify -x509_strict -CAfile R1/root.pem R2/cross-2036-by-2026.pem
	expect 0 "cross-2036-by-2026.pem: OK"
	run openssl verify -x509_strict -CAfile R2/root-2036.pem R2/cross-2026-by-2036.pem
	expect 0 "cross-2026-by-2036.pem: OK"
	# Not under the other root.
	run openssl verify -CAfile R2/root-2036.pem -partial_chain R2/cross-2036-by-2026.pem
	[ "$status" -ne 0 ]
	run openssl verify -CAfile R1/root.pem -partial_chain R2/cross-2026-by-2036.pem
	[ "$status" -ne 0 ]
	for pair in "cross-2036-by-2026.pem R2/root-2036.pem R1/root.pem" \
	    "cross-2026-by-2036.pem R1/root.pem R2/root-2036.pem"; do
		set -- $pair
		c=R2/$1
		[ "$(openssl x509 -in "$c" -noout -subject)" = "$(openssl x509 -in "$2" -noout -subject)" ]
		[ "$(openssl x509 -in "$c" -noout -issuer | sed 's/^issuer=//')" = \
		    "$(openssl x509 -in "$3" -noout -subject | sed 's/^subject=//')" ]
		[ "$(openssl x509 -in "$c" -noout -pubkey)" = "$(openssl x509 -in "$2" -noout -pubkey)" ]
		[ "$(ski "$c")" = "$(ski "$2")" ]
		[ "$(openssl x509 -in "$c" -noout -ext nameConstraints)" = \
		    "$(openssl x509 -in "$2" -noout -ext nameConstraints)" ]
	done
	# Recorded in each issuer's root state.
	for c in cross-2036-by-2026 cross-2026-by-2036; do
		serial=$(openssl x509 -in "R2/$c.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
		ls R2/root-state/roots/*/issued/ | grep -qi "$serial"
	done
}

@test "the bundle: old root active, new root next, both crosses; each root alone verifies it; openssl cms accepts it" {
	jq -e '.version == 1 and .previous_manifest_sha256 == null and
	    (.anchors | length) == 2 and .anchors[0].state == "active" and
	    .anchors[0].subject == "CN=Example Lab Root,O=Example" and
	    .anchors[1].state == "next" and
	    .anchors[1].subject == "CN=Example Lab Root 2036,O=Example" and
	    (.cross | length) == 2' R2/bundle/manifest.json
	# Expires in 90 days, the script's default.
	life=$(( $(date -d "$(jq -r .expires R2/bundle/manifest.json)" +%s) -
	    $(date -d "$(jq -r .issued_at R2/bundle/manifest.json)" +%s) ))
	[ "$life" -eq $((90 * 86400)) ]
	for b in R2/bundle R2/bundle.tar; do
		run keyrite bundle verify "$b" --trust R1/root.pem
		expect 0 "OK: signed by 1 trusted key (1 required)"
		run keyrite bundle verify "$b" --trust R2/root-2036.pem
		expect 0 "OK: signed by 1 trusted key"
		run keyrite bundle verify "$b" --trust R1/root.pem \
		    --trust R2/root-2036.pem --min-signatures 2
		expect 0 "OK: signed by 2 trusted keys (2 required)"
	done
	for r in R1/root.pem R2/root-2036.pem; do
		run openssl cms -verify -binary -content R2/bundle/manifest.json \
		    -inform DER -in R2/bundle/manifest.json.sig -CAfile "$r" \
		    -purpose any -out /dev/null
		expect 0 "Verification successful"
	done
	# A root nobody trusts verifies nothing.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout stranger.key -subj '/CN=Example Lab Root' -days 30 \
	    -out stranger.pem 2>/dev/null
	run keyrite bundle verify R2/bundle --trust stranger.pem
	expect 1 "signed by 0 trusted keys"
	run openssl cms -verify -binary -content R2/bundle/manifest.json \
	    -inform DER -in R2/bundle/manifest.json.sig -CAfile stranger.pem \
	    -purpose any -out /dev/null
	[ "$status" -ne 0 ]
	# The archive is the directory, packed deterministically.
	run keyrite bundle pack R2/bundle --out again.tar
	expect 0
	cmp again.tar R2/bundle.tar
}

@test "the new key's backup restores into a fresh token and signs under the new root" {
	token_setup restored
	run keyrite backup restore --backup R2/backup-2036/backup.blob \
	    --share R2/backup-2036/share-carol.txt \
	    --share R2/backup-2036/share-dave.txt \
	    --share R2/backup-2036/share-erin.txt \
	    --passphrase-file carol=carol.pass --passphrase-file dave=dave.pass \
	    --passphrase-file erin=erin.pass --token 'pkcs11:token=restored' \
	    --pin-file user.pin --ca R2/root-2036.pem
	expect 0
	[[ "$output" == *"root-2036"* ]]
	run keyrite root crl --key 'pkcs11:token=restored;object=root-2036' \
	    --pin-file user.pin --ca R2/root-2036.pem --out restored.crl
	expect 0
	run openssl crl -in restored.crl -CAfile R2/root-2036.pem -verify -noout
	expect 0 "verify OK"
	# The old root's backup is a different key: it does not pass as this one.
	token_setup wrong
	run keyrite backup restore --backup R1/backup/backup.blob \
	    --share R1/backup/share-carol.txt --share R1/backup/share-dave.txt \
	    --share R1/backup/share-erin.txt \
	    --passphrase-file carol=carol.pass --passphrase-file dave=dave.pass \
	    --passphrase-file erin=erin.pass --token 'pkcs11:token=wrong' \
	    --pin-file user.pin --ca R2/root-2036.pem
	[ "$status" -ne 0 ]
}

# The leaf, intermediate and cross of the next test, and NSS databases.
nss_db() {
	local db=$1
	shift
	rm -rf "$db"
	mkdir -p "$db"
	certutil -N -d "sql:$db" --empty-password
	certutil -A -d "sql:$db" -n anchor -t "C,," -i "$1"
	shift
	local i=0 c
	for c in "$@"; do
		certutil -A -d "sql:$db" -n "ca$((i++))" -t ",," -i "$c"
	done
	certutil -A -d "sql:$db" -n leaf -t ",," -i L/leaf.pem
}

@test "a leaf under the new root validates at an endpoint of the old root through the cross-certificate (OpenSSL, GnuTLS, NSS)" {
	# The new root key is in the rehearsal's token, under the quorum.
	export KD="$W/kd"
	keyrited init --home "$KD" --subject 'CN=Lab Issuing 2036,O=Example' \
	    --public-url http://127.0.0.1:9 >/dev/null
	run on_token keyrite root sign --key "$NEW" $QUORUM --ca R2/root-2036.pem \
	    --csr "$KD/intermediate.csr" --days 365 --out int-2036.pem
	expect 0 "intermediate certificate: int-2036.pem"
	run keyrited install --home "$KD" --cert int-2036.pem \
	    --root R2/root-2036.pem --root-crl R2/root-2036.crl
	expect 0
	mkdir -p L
	(cd L && csr leaf '/CN=www.lab.internal')
	run keyrited issue --home "$KD" --csr L/leaf.csr --out L/leaf.pem
	expect 0
	cat int-2036.pem R2/cross-2036-by-2026.pem >L/untrusted.pem
	cat L/leaf.pem int-2036.pem R2/cross-2036-by-2026.pem >L/chain-cross.pem
	cat L/leaf.pem int-2036.pem >L/chain.pem

	# OpenSSL: old root + cross; not without the cross; new root alone.
	run openssl verify -x509_strict -purpose sslserver -CAfile R1/root.pem \
	    -untrusted L/untrusted.pem L/leaf.pem
	expect 0 "leaf.pem: OK"
	run openssl verify -x509_strict -purpose sslserver -CAfile R1/root.pem \
	    -untrusted int-2036.pem L/leaf.pem
	[ "$status" -ne 0 ]
	run openssl verify -x509_strict -purpose sslserver \
	    -CAfile R2/root-2036.pem -untrusted int-2036.pem L/leaf.pem
	expect 0 "leaf.pem: OK"

	# GnuTLS.
	run certtool --verify --load-ca-certificate R1/root.pem --infile L/chain-cross.pem
	expect 0 "Chain verification output: Verified"
	run certtool --verify --load-ca-certificate R1/root.pem --infile L/chain.pem
	[ "$status" -ne 0 ]
	[[ "$output" == *"Not verified"* ]]
	run certtool --verify --load-ca-certificate R2/root-2036.pem --infile L/chain.pem
	expect 0 "Chain verification output: Verified"

	# NSS certutil.
	nss_db L/nss-old R1/root.pem int-2036.pem R2/cross-2036-by-2026.pem
	run certutil -V -d sql:L/nss-old -n leaf -u V
	expect 0 "certificate is valid"
	nss_db L/nss-nocross R1/root.pem int-2036.pem
	run certutil -V -d sql:L/nss-nocross -n leaf -u V
	[ "$status" -ne 0 ]
	nss_db L/nss-new R2/root-2036.pem int-2036.pem
	run certutil -V -d sql:L/nss-new -n leaf -u V
	expect 0 "certificate is valid"
}

@test "plain commands make what the ceremony makes: cross-certificate fields, constraints, bundle" {
	# The old root cross-signs the new one again, by hand, on the token.
	run on_token keyrite root cross-sign --key "$OLD" $QUORUM \
	    --ca R1/root.pem --cert R2/root-2036.pem --out plain-cross.pem
	expect 0 "cross-certificate: plain-cross.pem"
	fields() { openssl x509 -in "$1" -noout -text \
	    -certopt no_serial,no_sigdump,no_validity,no_signame; }
	[ -n "$(fields plain-cross.pem)" ]
	diff <(fields plain-cross.pem) <(fields R2/cross-2036-by-2026.pem)
	[ "$(openssl x509 -in plain-cross.pem -noout -enddate)" = \
	    "$(openssl x509 -in R2/cross-2036-by-2026.pem -noout -enddate)" ]

	# root init --constraints-from copies them as the ceremony did.
	on_token keyrite hsm keygen --token 'pkcs11:token=rehearsal' $QUORUM \
	    --label plain-2036 --type ec-p384 >/dev/null
	run on_token keyrite root init --key 'pkcs11:token=rehearsal;object=plain-2036' \
	    $QUORUM --subject 'CN=Plain Root 2036,O=Example' --days 3650 \
	    --constraints-from R1/root.pem --out plain-root.pem
	expect 0 "name constraints (as R1/root.pem): DNS:lab.internal, IP:10.0.0.0/8"
	[ "$(openssl x509 -in plain-root.pem -noout -ext nameConstraints)" = \
	    "$(openssl x509 -in R2/root-2036.pem -noout -ext nameConstraints)" ]

	# The bundle, by hand, from the same files: the same manifest but
	# for its times, the same exports, the same verification.
	run keyrite bundle build --anchor R1/root.pem:active \
	    --anchor R2/root-2036.pem:next --cross R2/cross-2036-by-2026.pem \
	    --cross R2/cross-2026-by-2036.pem --expires 90d --out PB
	expect 0
	# The install scripts name the bundle's issue time, so their hashes
	# differ; the rest of each script must not.
	strip() { jq 'del(.issued_at, .expires) | .exports |= map(
	    if (.file | startswith("install-")) then del(.sha256) else . end)' "$1"; }
	diff <(strip PB/manifest.json) <(strip R2/bundle/manifest.json)
	for f in anchors.pem bundle.p7b truststore.p12; do
		cmp "PB/$f" "R2/bundle/$f"
	done
	for f in install-windows.ps1 install-macos.sh; do
		diff <(grep -v 'issued' "PB/$f") <(grep -v 'issued' "R2/bundle/$f")
	done
	run on_token keyrite bundle sign PB --key "$OLD" $QUORUM --cert R1/root.pem
	expect 0 "carries 1 signature"
	run on_token keyrite bundle sign PB --key "$NEW" $QUORUM --cert R2/root-2036.pem
	expect 0 "carries 2 signatures"
	for r in R1/root.pem R2/root-2036.pem; do
		run keyrite bundle verify PB --trust "$r"
		expect 0 "OK: signed by 1 trusted key"
	done
	run keyrite bundle verify PB --trust R1/root.pem --trust R2/root-2036.pem \
	    --min-signatures 2
	expect 0 "OK: signed by 2 trusted keys"
}

@test "root init --constraints-from refuses what it cannot copy exactly, before the PIN" {
	run keyrite root init --key "$NEW" --pin-file nope.pin --subject 'CN=X' \
	    --constraints-from R1/root.pem --permitted-dns lab.internal --out x.pem
	expect 2 "give no --permitted-dns or --permitted-ip with it"
	# Excluded subtrees cannot be copied.
	printf '%s\n' 'basicConstraints=critical,CA:TRUE' \
	    'keyUsage=critical,keyCertSign,cRLSign' \
	    'subjectKeyIdentifier=hash' \
	    'nameConstraints=critical,permitted;DNS:lab.internal,excluded;DNS:bad.lab.internal' >ex.ext
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
	    -keyout ex.key -subj '/CN=Excluding Root' -days 30 \
	    -extensions v3 -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat ex.ext) \
	    -out ex.pem 2>/dev/null
	run keyrite root init --key "$NEW" --pin-file nope.pin --subject 'CN=X' \
	    --constraints-from ex.pem --out x.pem
	expect 1 "ex.pem: its name constraints exclude subtrees"
	# IP before DNS is not the order a keyrite root writes.
	sed -i 's/^nameConstraints=.*/nameConstraints=critical,permitted;IP:10.0.0.0\/255.0.0.0,permitted;DNS:lab.internal/' ex.ext
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
	    -keyout ex.key -subj '/CN=Reordered Root' -days 30 \
	    -extensions v3 -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat ex.ext) \
	    -out ex2.pem 2>/dev/null
	run keyrite root init --key "$NEW" --pin-file nope.pin --subject 'CN=X' \
	    --constraints-from ex2.pem --out x.pem
	expect 1 "cannot be copied exactly"
	[ ! -e x.pem ]
}

@test "a later rotation names the last bundle: version 2, chained to it" {
	# bundle-1: what endpoints got after root-init (old root alone),
	# signed by the old key, by hand.
	run on_token keyrite bundle build --anchor R1/root.pem:active \
	    --expires 90d --out B1
	expect 0
	run on_token keyrite bundle sign B1 --key "$OLD" $QUORUM --cert R1/root.pem
	expect 0
	rm -rf IN; cp -r R1 IN
	keyrite bundle pack B1 --out IN/bundle-1.tar >/dev/null
	sed 's/^      # previous: bundle-1.tar/      previous: bundle-1.tar/' \
	    "$SCRIPTS/rotate-root.yaml" >rotate-2.yaml
	grep -q '^      previous: bundle-1.tar' rotate-2.yaml
	run keyrite ceremony rehearse rotate-2.yaml --out R3 --input IN
	expect 0 "rehearsal completed"
	[[ "$output" == *"version 2"* ]]
	jq -e --arg h "$(sha256sum B1/manifest.json | cut -c1-64)" \
	    '.version == 2 and .previous_manifest_sha256 == $h' R3/bundle/manifest.json
	run keyrite bundle verify R3/bundle.tar --trust R1/root.pem --previous IN/bundle-1.tar
	expect 0 "follows the previous bundle"
	# Without the right predecessor it is a fork.
	run keyrite bundle verify R3/bundle.tar --trust R1/root.pem --previous R2/bundle.tar
	[ "$status" -ne 0 ]
}

@test "the later bundle, as documented: new root active, old retiring, following the rotation's" {
	ra=$(date -u -d '+200 days' +%Y-%m-%d)
	run keyrite bundle build --anchor R2/root-2036.pem:active \
	    --anchor R1/root.pem:retiring --remove-after "$ra" \
	    --cross R2/cross-2026-by-2036.pem --previous R2/bundle.tar \
	    --expires 90d --out BN
	expect 0 "version:  2"
	run on_token keyrite bundle sign BN --key "$OLD" $QUORUM --cert R1/root.pem
	expect 0
	run on_token keyrite bundle sign BN --key "$NEW" $QUORUM --cert R2/root-2036.pem
	expect 0 "carries 2 signatures"
	run keyrite bundle verify BN --trust R1/root.pem --previous R2/bundle.tar
	expect 0 "follows the previous bundle"
	jq -e --arg d "${ra}T00:00:00Z" '.anchors[0].state == "active" and
	    .anchors[1].state == "retiring" and .anchors[1].remove_after == $d' \
	    BN/manifest.json
}

# int_leaf TAG KEY CA HSMCONF: an intermediate under root CA (its key KEY
# in the token of HSMCONF) in keyrited home kd-TAG, and a leaf from it:
# int-TAG.pem, leaf-TAG.pem.
int_leaf() {
	local tag=$1 key=$2 ca=$3 conf=$4
	keyrited init --home "kd-$tag" --subject "CN=Lab Issuing $tag" \
	    --public-url http://127.0.0.1:9 >/dev/null
	SOFTHSM2_CONF=$conf keyrite root sign --key "$key" $QUORUM --ca "$ca" \
	    --csr "kd-$tag/intermediate.csr" --days 365 \
	    --out "int-$tag.pem" >/dev/null
	keyrited install --home "kd-$tag" --cert "int-$tag.pem" --root "$ca" \
	    >/dev/null
	csr "leaf-$tag" '/CN=www.lab.internal'
	keyrited issue --home "kd-$tag" --csr "leaf-$tag.csr" \
	    --out "leaf-$tag.pem" >/dev/null
}

@test "an endpoint applies the rehearsed rotation with keyrite-trust: through the cross before, the new root after, the old one gone after remove-retired" {
	# The endpoint has applied bundle-1 (the old root alone) and trusts
	# nothing else; the rotation rehearsed after it (R3, version 2) made
	# its new root, crosses and bundle in R3's token.
	local conf="$W/R3/rehearsal-hsm/softhsm2.conf" ep="$W/ep" at
	local new3='pkcs11:token=rehearsal;object=root-2036'
	[ -f R3/bundle.tar ]
	export HOME=/home/tester
	run keyrite-trust bootstrap --root R1/root.pem --root-dir "$ep" \
	    --fingerprint "$(openssl x509 -in R1/root.pem -outform DER | sha256sum | cut -c1-64)"
	expect 0
	run keyrite-trust apply IN/bundle-1.tar --stores system,pem,nss --root-dir "$ep"
	expect 0 "applied bundle version 1"
	int_leaf old "$OLD" R1/root.pem "$conf"
	int_leaf new "$new3" R3/root-2036.pem "$conf"

	# Before applying the rotation: the new root's leaf validates only
	# through the cross-certificate by the old root.
	kt_validates "$ep" leaf-old.pem int-old.pem
	! kt_validates "$ep" leaf-new.pem int-new.pem
	cat int-new.pem R3/cross-2036-by-2026.pem >int-new+cross.pem
	kt_validates "$ep" leaf-new.pem int-new+cross.pem

	# The rotation's bundle (version 2, old active, new next): the new
	# root's leaf validates without the cross, the old one still does.
	run keyrite-trust apply R3/bundle.tar --root-dir "$ep"
	expect 0 "applied bundle version 2"
	kt_validates "$ep" leaf-new.pem int-new.pem
	kt_validates "$ep" leaf-old.pem int-old.pem
	run keyrite-trust status --root-dir "$ep" --leaf leaf-new.pem --chain int-new.pem
	expect 0

	# The later bundle: new active, old retiring 15 s from now.
	at=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ)
	keyrite bundle build --anchor R3/root-2036.pem:active \
	    --anchor R1/root.pem:retiring --remove-after "$at" \
	    --cross R3/cross-2026-by-2036.pem --previous R3/bundle.tar \
	    --expires 90d --out B3 >/dev/null
	SOFTHSM2_CONF=$conf keyrite bundle sign B3 --key "$OLD" $QUORUM \
	    --cert R1/root.pem >/dev/null
	SOFTHSM2_CONF=$conf keyrite bundle sign B3 --key "$new3" $QUORUM \
	    --cert R3/root-2036.pem >/dev/null
	keyrite bundle pack B3 --out B3.tar >/dev/null
	run keyrite-trust apply B3.tar --root-dir "$ep"
	expect 0 "applied bundle version 3"
	# Retiring is still trusted until remove_after, and remove-retired
	# before it removes nothing.
	kt_validates "$ep" leaf-old.pem int-old.pem
	run keyrite-trust remove-retired --root-dir "$ep"
	expect 0
	kt_validates "$ep" leaf-old.pem int-old.pem
	while [ "$(date -u +%s)" -le "$(date -u -d "$at" +%s)" ]; do sleep 1; done
	run keyrite-trust remove-retired --root-dir "$ep"
	expect 0
	# A chain that ends only at the old root fails in every store; the
	# new root's still validates, and status sees no drift.
	run openssl verify -x509_strict -CAfile "$ep/etc/ssl/certs/ca-certificates.crt" \
	    -untrusted int-old.pem leaf-old.pem
	[ "$status" -ne 0 ]
	run certtool --verify --load-ca-certificate "$ep/etc/keyrite/trust.pem" \
	    --infile <(cat leaf-old.pem int-old.pem)
	[[ "$output" != *"Chain verification output: Verified"* ]]
	run vfychain -d "sql:$ep$KT_NSSDB" -pp -u 1 -a leaf-old.pem -a int-old.pem
	[[ "$output" != *"Chain is good"* ]]
	kt_validates "$ep" leaf-new.pem int-new.pem
	run keyrite-trust status --root-dir "$ep"
	expect 0
}

@test "scripts that misuse the rotation actions are refused before anything runs" {
	# Signing a bundle this ceremony did not build.
	sed -e '/^  - id: sign-new$/,/^    confirm:/s/bundle: bundle$/bundle: other/' \
	    "$SCRIPTS/rotate-root.yaml" >bad1.yaml
	run keyrite ceremony rehearse bad1.yaml --out B1X --input R1
	expect 1 "bundle 'other' is not built by an earlier bundle-build step"
	[ ! -e B1X ]
	sed -e 's/^      constraints_from: root.pem$/      constraints_from: root.pem\n      permitted_dns: [lab.internal]/' \
	    "$SCRIPTS/rotate-root.yaml" >bad2.yaml
	run keyrite ceremony plan bad2.yaml
	expect 1 "constraints_from copies the name constraints"
	sed -e 's/^      next: \[root-2036.pem\]$/      next: [root.pem]/' \
	    "$SCRIPTS/rotate-root.yaml" >bad3.yaml
	run keyrite ceremony plan bad3.yaml
	expect 1 "anchor 'root.pem' is both active and next"
}
