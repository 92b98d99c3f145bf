#!/usr/bin/env bats
# Root rotation groundwork: keyrite root cross-sign and keyrite bundle
# build | sign | verify | pack | inspect, with two roots in a SoftHSM
# token (and a third, "evil" one with the old root's name and another
# key).  The forgeries must fail: a changed manifest or file, an unknown
# signer, a replayed, skipped or forked version, an expired bundle, a
# hostile archive.  Independent checks: openssl cms -verify with either
# root alone, OpenSSL, GnuTLS and NSS through the cross-certificate,
# Java's keytool on the truststore.

load helpers

OLD='pkcs11:token=lab;object=old'
NEW='pkcs11:token=lab;object=new'
EVIL='pkcs11:token=lab;object=evil'

setup_file() {
	file_setup
	token_setup lab
	for k in old:ec-p384 new:ec-p256 evil:ec-p256 wide:ec-p256; do
		keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
		    --label "${k%%:*}" --type "${k#*:}" >/dev/null
	done
	keyrite root init --key "$OLD" --pin-file user.pin \
	    --subject 'CN=Lab Root 2026,O=Example' --days 3650 \
	    --permitted-dns lab.internal --permitted-ip 10.0.0.0/8 \
	    --out old.pem >/dev/null
	keyrite root init --key "$NEW" --pin-file user.pin \
	    --subject 'CN=Lab Root 2036,O=Example' --days 5000 \
	    --permitted-dns lab.internal --permitted-ip 10.0.0.0/8 \
	    --out new.pem >/dev/null
	keyrite root init --key "$EVIL" --pin-file user.pin \
	    --subject 'CN=Lab Root 2026,O=Example' --days 3650 \
	    --permitted-dns lab.internal --out evil.pem >/dev/null
	keyrite root init --key 'pkcs11:token=lab;object=wide' \
	    --pin-file user.pin --subject 'CN=Wide Root' --days 3650 \
	    --permitted-dns internal --permitted-ip 10.0.0.0/8 \
	    --out wide.pem >/dev/null
}

setup() { cd "$W"; }

# The SKI of certificate $1, as openssl prints it.
ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' '; }

@test "root cross-sign: the new root's name, key, SKI and constraints, issued by the old root" {
	run keyrite root cross-sign --key "$OLD" --pin-file user.pin \
	    --ca old.pem --cert new.pem --out cross.pem
	expect 0 "cross-certificate: cross.pem"
	[[ "$output" == *"issuer:   /CN=Lab Root 2026/O=Example"* ]]
	run openssl verify -x509_strict -CAfile old.pem cross.pem
	expect 0 "cross.pem: OK"
	[ "$(openssl x509 -in cross.pem -noout -subject)" = \
	    "$(openssl x509 -in new.pem -noout -subject)" ]
	[ "$(openssl x509 -in cross.pem -noout -pubkey)" = \
	    "$(openssl x509 -in new.pem -noout -pubkey)" ]
	[ "$(ski cross.pem)" = "$(ski new.pem)" ]
	run openssl x509 -in cross.pem -noout -text
	[[ "$output" == *"X509v3 Name Constraints: critical"* ]]
	[[ "$output" == *"DNS:lab.internal"* ]]
	[[ "$output" != *"pathlen"* ]]
	# It ends when the old root does, not later.
	[ "$(openssl x509 -in cross.pem -noout -enddate)" = \
	    "$(openssl x509 -in old.pem -noout -enddate)" ]
	# The old root's state recorded it.
	serial=$(openssl x509 -in cross.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	ls "$KEYRITE_HOME"/roots/*/issued/ | grep -qi "$serial"
}

@test "root cross-sign the other way: the old root under the new one" {
	run keyrite root cross-sign --key "$NEW" --pin-file user.pin \
	    --ca new.pem --cert old.pem --out rcross.pem
	expect 0 "cross-certificate: rcross.pem"
	run openssl verify -x509_strict -CAfile new.pem rcross.pem
	expect 0 "rcross.pem: OK"
}

@test "root cross-sign refuses, before the PIN, wider constraints, too many days, a key mismatch" {
	run keyrite root cross-sign --key "$OLD" --pin-file nope.pin \
	    --ca old.pem --cert wide.pem --out w.pem
	expect 1 "DNS:internal, which is outside the issuing root's"
	[[ "$output" != *"nope.pin"* ]]
	[ ! -e w.pem ]
	run keyrite root cross-sign --key "$OLD" --pin-file nope.pin \
	    --ca old.pem --cert new.pem --days 4000 --out w.pem
	expect 1 "validity-issuer"
	[ ! -e w.pem ]
	run keyrite root cross-sign --key "$OLD" --pin-file nope.pin \
	    --ca old.pem --cert cross.pem --out w.pem
	expect 1 "self-signed root"
	run keyrite root cross-sign --key "$OLD" --pin-file nope.pin \
	    --ca old.pem --cert new.pem --out cross.pem
	expect 1 "exists already"
	run keyrite root cross-sign --key "$NEW" --pin-file user.pin \
	    --ca old.pem --cert new.pem --out w.pem
	expect 1 "is not the key certified in old.pem"
	[ ! -e w.pem ]
	run keyrite root cross-sign --key "$OLD" --pin-file nope.pin \
	    --ca old.pem --cert new.pem --dry-run
	expect 0 "passes the 'cross' profile"
	run keyrite root cross-sign --key "$OLD" --ca old.pem
	expect 2 "--cert and --out are required"
}

@test "a leaf under the new root validates at the old root through the cross-certificate (OpenSSL, GnuTLS, NSS)" {
	csr int '/CN=Lab Issuing 2036'
	keyrite root sign --key "$NEW" --pin-file user.pin --ca new.pem \
	    --csr int.csr --days 365 --out int.pem >/dev/null
	csr leaf '/CN=www.lab.internal'
	printf '%s\n' 'subjectAltName=DNS:www.lab.internal' \
	    'basicConstraints=critical,CA:FALSE' \
	    'keyUsage=critical,digitalSignature' \
	    'extendedKeyUsage=serverAuth' 'authorityKeyIdentifier=keyid' \
	    'subjectKeyIdentifier=hash' >leaf.ext
	openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key \
	    -set_serial 0x1234567890abcdef -days 30 -extfile leaf.ext \
	    -out leaf.pem 2>/dev/null
	cat int.pem cross.pem >untrusted.pem
	run openssl verify -x509_strict -purpose sslserver -CAfile old.pem \
	    -untrusted untrusted.pem leaf.pem
	expect 0 "leaf.pem: OK"
	# Without the cross-certificate the old root knows nothing of it.
	run openssl verify -CAfile old.pem -untrusted int.pem leaf.pem
	[ "$status" -ne 0 ]
	# And an endpoint that already trusts the new root needs no cross.
	run openssl verify -x509_strict -CAfile new.pem -untrusted int.pem leaf.pem
	expect 0 "leaf.pem: OK"
	cat leaf.pem int.pem cross.pem >chain.pem
	run certtool --verify --load-ca-certificate old.pem --infile chain.pem
	expect 0 "Chain verification output: Verified"
	if command -v certutil >/dev/null && command -v vfychain >/dev/null; then
		mkdir -p nss
		certutil -N -d sql:nss --empty-password
		certutil -A -d sql:nss -n old -t C,, -i old.pem
		run vfychain -d sql:nss -a -pp -u 1 leaf.pem int.pem cross.pem
		expect 0 "Chain is good"
	fi
}

@test "bundle build: manifest, anchors, cross-certificates, PEM, PKCS#7 and a Java truststore" {
	run keyrite bundle build --anchor old.pem:active --anchor new.pem:next \
	    --cross cross.pem --cross rcross.pem --expires 90d --out b1
	expect 0 "version:  1"
	[[ "$output" == *"active    CN=Lab Root 2026,O=Example"* ]]
	[[ "$output" == *"next      CN=Lab Root 2036,O=Example"* ]]
	[ "$(ls b1 | wc -l)" -eq 10 ]
	[ ! -e b1/manifest.json.sig ]
	jq -e '.format == "keyrite-bundle" and .version == 1 and
	    .previous_manifest_sha256 == null and (.anchors | length) == 2 and
	    (.cross | length) == 2' b1/manifest.json
	# Fingerprints are of the DER; files are named after them.
	fp=$(openssl x509 -in old.pem -outform DER | sha256sum | cut -c1-64)
	[ "$(jq -r '.anchors[0].sha256' b1/manifest.json)" = "$fp" ]
	[ -f "b1/anchor-${fp:0:16}.pem" ]
	spki=$(openssl x509 -in old.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
	[ "$(jq -r '.anchors[0].spki_sha256' b1/manifest.json)" = "$spki" ]
	for f in anchors.pem bundle.p7b truststore.p12 install-windows.ps1 install-macos.sh; do
		[ "$(jq -r --arg f $f '.exports[] | select(.file == $f) | .sha256' b1/manifest.json)" = \
		    "$(sha256sum b1/$f | cut -c1-64)" ]
	done
	[ "$(grep -c 'BEGIN CERTIFICATE' b1/anchors.pem)" -eq 2 ]
	[ "$(openssl pkcs7 -inform DER -in b1/bundle.p7b -print_certs | grep -c '^subject=')" -eq 2 ]
	[ "$(openssl pkcs12 -in b1/truststore.p12 -passin pass:changeit -nokeys | grep -c 'BEGIN CERTIFICATE')" -eq 2 ]
	# The scripts for Windows and macOS name each anchor by its SHA-1
	# thumbprint (what LocalMachine\Root and `security -Z` use).
	for r in old new; do
		t=$(openssl x509 -in $r.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
		f=$(openssl x509 -in $r.pem -outform DER | sha256sum | cut -c1-16)
		grep -q "Thumbprint = '$t'; Name = 'keyrite-$f'" b1/install-windows.ps1
		grep -q "^add anchor-$f.pem $t -$" b1/install-macos.sh
		grep -q "^remove anchor-$f.pem $t -$" b1/install-macos.sh
	done
	grep -q 'Import-Certificate' b1/install-windows.ps1
	grep -q 'security add-trusted-cert -d -r trustRoot -k' b1/install-macos.sh
	sh -n b1/install-macos.sh
}

@test "Java's keytool lists the truststore's anchors as trustedCertEntry" {
	run keytool -list -keystore b1/truststore.p12 -storetype PKCS12 \
	    -storepass changeit
	expect 0 "Your keystore contains 2 entries"
	[ "$(grep -c trustedCertEntry <<<"$output")" -eq 2 ]
	fp=$(openssl x509 -in new.pem -outform DER | sha256sum | cut -c1-16)
	[[ "$output" == *"keyrite-$fp"* ]]
}

@test "bundle sign by the old root, then the new one; each root alone verifies it" {
	run keyrite bundle sign b1 --key "$OLD" --pin-file nope.pin --cert old.pem --dry-run
	expect 0 "dry run: b1 is sound"
	[ ! -e b1/manifest.json.sig ]
	run keyrite bundle sign b1 --key "$OLD" --pin-file user.pin --cert old.pem
	expect 0 "by CN=Lab Root 2026,O=Example"
	[[ "$output" == *"carries 1 signature"* ]]
	run keyrite bundle verify b1 --trust new.pem
	expect 1 "signed by 0 trusted keys, 1 required"
	run keyrite bundle sign b1 --key "$NEW" --pin-file user.pin --cert new.pem
	expect 0 "by CN=Lab Root 2036,O=Example"
	[[ "$output" == *"carries 2 signatures"* ]]
	run keyrite bundle verify b1 --trust old.pem
	expect 0 "OK: signed by 1 trusted key (1 required)"
	run keyrite bundle verify b1 --trust new.pem
	expect 0 "OK: signed by 1 trusted key"
	run keyrite bundle verify b1 --trust old.pem --trust new.pem --min-signatures 2
	expect 0 "OK: signed by 2 trusted keys (2 required)"
	# The same key under two certificates counts once.
	run keyrite bundle verify b1 --trust old.pem --trust rcross.pem --min-signatures 2
	expect 1 "signed by 1 trusted key, 2 required"
	# A PEM bundle of trusted roots works as well as two files.
	run keyrite bundle verify b1 --trust b1/anchors.pem --min-signatures 2
	expect 0 "OK: signed by 2 trusted keys"
}

@test "openssl cms -verify accepts the signatures with either root alone" {
	for r in old new; do
		run openssl cms -verify -binary -content b1/manifest.json \
		    -inform DER -in b1/manifest.json.sig -CAfile $r.pem \
		    -purpose any -out /dev/null
		expect 0 "Verification successful"
	done
	run openssl cms -verify -binary -content b1/manifest.json -inform DER \
	    -in b1/manifest.json.sig -CAfile evil.pem -purpose any -out /dev/null
	[ "$status" -ne 0 ]
	# One SignerInfo per root, with the three signed attributes, naming
	# its key by SKI (version 3).
	run openssl cms -cmsout -print -inform DER -in b1/manifest.json.sig
	[ "$(grep -c '^ *signedAttrs:' <<<"$output")" -eq 2 ]
	[ "$(grep -c 'messageDigest' <<<"$output")" -eq 2 ]
	[ "$(grep -c 'signingTime' <<<"$output")" -eq 2 ]
	[ "$(grep -c 'contentType (1.2.840.113549.1.9.3)' <<<"$output")" -eq 2 ]
	[ "$(grep -c 'd.subjectKeyIdentifier' <<<"$output")" -eq 2 ]
}

@test "a key signs once; a stale signature is refused; both before the PIN" {
	run keyrite bundle sign b1 --key "$OLD" --pin-file nope.pin --cert old.pem
	expect 1 "already signed by this key"
	[[ "$output" != *"nope.pin"* ]]
	run keyrite bundle sign b1 --key "$OLD" --pin-file nope.pin --cert rcross.pem
	expect 1 "already signed by this key"
	cp -r b1 stale
	keyrite bundle build --anchor old.pem:active --expires 10d --out other >/dev/null
	cp b1/manifest.json.sig other/
	run keyrite bundle sign other --key "$NEW" --pin-file nope.pin --cert new.pem
	expect 1 "made over another manifest.json"
	run keyrite bundle verify other --trust old.pem
	expect 1 "changed since it was signed"
}

@test "a tampered manifest, a changed file and an extra file are refused" {
	cp -r b1 t1
	sed -i 's/"next"/"active"/' t1/manifest.json
	run keyrite bundle verify t1 --trust old.pem
	expect 1 "signed by 0 trusted keys"
	[[ "$output" == *"NOT VALID: made over another manifest.json"* ]]
	run openssl cms -verify -binary -content t1/manifest.json -inform DER \
	    -in t1/manifest.json.sig -CAfile old.pem -purpose any -out /dev/null
	[ "$status" -ne 0 ]
	cp -r b1 t2
	cp evil.pem t2/"$(jq -r '.anchors[0].file' b1/manifest.json)"
	run keyrite bundle verify t2 --trust old.pem
	expect 1 "not what the manifest says"
	cp -r b1 t3
	echo 'x' >>t3/anchors.pem
	run keyrite bundle verify t3 --trust old.pem
	expect 1 "anchors.pem: its SHA-256 is not the one the manifest gives"
	cp -r b1 t4
	cp -r b1 t5
	sed -i 's/^remove /true /' t5/install-macos.sh
	run keyrite bundle verify t5 --trust old.pem
	expect 1 "install-macos.sh: its SHA-256 is not the one the manifest gives"
	echo 'curl | sh' >t4/install.sh
	run keyrite bundle verify t4 --trust old.pem
	expect 1 "install.sh: not listed in the manifest"
}

@test "a bundle signed by an unknown key is refused, whatever name it shows" {
	keyrite bundle build --anchor evil.pem:active --expires 90d --out be >/dev/null
	run keyrite bundle sign be --key "$EVIL" --pin-file user.pin --cert evil.pem
	expect 0 "carries 1 signature"
	run keyrite bundle verify be --trust old.pem
	expect 1 "signed by 0 trusted keys, 1 required"
	[[ "$output" == *"valid, but by a key that is not trusted"* ]]
	run openssl cms -verify -binary -content be/manifest.json -inform DER \
	    -in be/manifest.json.sig -CAfile old.pem -purpose any -out /dev/null
	[ "$status" -ne 0 ]
}

@test "versions chain: N+1 names N; replay, rollback, skips and forks are refused" {
	run keyrite bundle build --anchor old.pem:retiring --anchor new.pem:active \
	    --cross cross.pem --previous b1 --expires 90d \
	    --remove-after 2099-01-01 --out b2
	expect 0 "version:  2"
	[[ "$output" == *"remove after 2099-01-01T00:00:00Z"* ]]
	[ "$(jq -r .previous_manifest_sha256 b2/manifest.json)" = \
	    "$(sha256sum b1/manifest.json | cut -c1-64)" ]
	keyrite bundle sign b2 --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	keyrite bundle sign b2 --key "$NEW" --pin-file user.pin --cert new.pem >/dev/null
	run keyrite bundle verify b2 --trust old.pem --previous b1
	expect 0 "follows the previous bundle"
	# One cross-certificate only (new by old): both signatures chain
	# to the old root, which endpoints of bundle 1 trust.
	run openssl cms -verify -binary -content b2/manifest.json -inform DER \
	    -in b2/manifest.json.sig -CAfile old.pem -purpose any -out /dev/null
	expect 0 "Verification successful"
	run keyrite bundle verify b2 --trust old.pem --previous b2
	expect 1 "rollback or replay is refused"
	run keyrite bundle verify b1 --trust old.pem --previous b2
	expect 1 "not newer"
	keyrite bundle build --anchor new.pem:active --previous b2 --expires 90d --out b3 >/dev/null
	keyrite bundle sign b3 --key "$NEW" --pin-file user.pin --cert new.pem >/dev/null
	run keyrite bundle verify b3 --trust new.pem --previous b1
	expect 1 "skips"
	run keyrite bundle verify b3 --trust new.pem --previous b2
	expect 0 "OK"
	run openssl cms -verify -binary -content b3/manifest.json -inform DER \
	    -in b3/manifest.json.sig -CAfile new.pem -purpose any -out /dev/null
	expect 0 "Verification successful"
	# Another version 1 than the one b2 names.
	keyrite bundle build --anchor old.pem:active --expires 90d --out b1x >/dev/null
	keyrite bundle sign b1x --key "$OLD" --pin-file user.pin --cert old.pem >/dev/null
	run keyrite bundle verify b2 --trust old.pem --previous b1x
	expect 1 "a fork is refused"
}

@test "an expired bundle is refused" {
	later=$(( $(date +%s) + 91 * 86400 ))
	KEYRITE_NOW=$later run keyrite bundle verify b1 --trust old.pem
	expect 1 "the bundle expired at"
	earlier=$(( $(date +%s) - 3600 ))
	KEYRITE_NOW=$earlier run keyrite bundle verify b1 --trust old.pem
	expect 1 "later than now"
}

@test "bundle pack is deterministic; verify and inspect read the archive" {
	run keyrite bundle pack b1 --out b1.tar
	expect 0 "packed b1 into b1.tar: 11 files, 2 signatures"
	keyrite bundle pack b1 --out again.tar >/dev/null
	cmp b1.tar again.tar
	run keyrite bundle pack b1 --out b1.tar
	expect 1 "exists already"
	run tar tvf b1.tar
	expect 0
	[ "$(awk '{print $1, $2, $4, $5}' <<<"$output" | sort -u)" = \
	    "-rw-r--r-- 0/0 1970-01-01 00:00" ]
	[ "$(tar tf b1.tar)" = "$(ls b1 | LC_ALL=C sort)" ]
	run keyrite bundle verify b1.tar --trust new.pem
	expect 0 "OK: signed by 1 trusted key"
	run keyrite bundle inspect b1.tar
	expect 0 "the files match the manifest"
	[[ "$output" == *"manifest.json.sig"* ]]
	[[ "$output" == *"valid under the certificate it carries"* ]]
	# A bundle made by GNU tar from the same files reads the same.
	(cd b1 && tar --format=ustar -cf ../gnu.tar ./*)
	run keyrite bundle inspect gnu.tar
	expect 1 "a path with a directory"
	(cd b1 && tar --format=gnu -cf ../gnu.tar -- *)
	run keyrite bundle verify gnu.tar --trust old.pem
	expect 0 "OK"
	# Neither an unsigned bundle nor a stale signature is packed.
	keyrite bundle build --anchor old.pem:active --expires 10d --out unsigned >/dev/null
	run keyrite bundle pack unsigned --out u.tar
	expect 1 "not signed"
	run keyrite bundle pack other --out other.tar
	expect 1 "is not valid: made over another manifest.json"
	[ ! -e u.tar ] && [ ! -e other.tar ]
}

@test "inspect refuses hostile archives" {
	mkdir -p hostile && cd hostile
	echo x >a.pem
	ln -sf /etc/passwd l.pem
	tar --format=ustar -cf ../sym.tar a.pem l.pem
	tar --format=ustar -cf ../dots.tar --transform 's,^,../,' a.pem
	tar --format=ustar -cPf ../abs.tar "$PWD/a.pem"
	cd ..
	run keyrite bundle inspect sym.tar
	expect 1 "l.pem: a symbolic link"
	run keyrite bundle inspect dots.tar
	expect 1 "'..' component"
	run keyrite bundle inspect abs.tar
	expect 1 "an absolute path"
	head -c 1000 b1.tar >cut.tar
	run keyrite bundle inspect cut.tar
	expect 1 "truncated"
}

@test "bundle usage errors exit 2; every subcommand has --help with an example" {
	run keyrite bundle build --anchor old.pem:active --out x
	expect 2 "--anchor, --expires and --out are required"
	run keyrite bundle build --anchor old.pem:current --expires 9d --out x
	expect 2 "FILE:STATE"
	run keyrite bundle build --anchor old.pem:retiring --anchor new.pem:active \
	    --expires 9d --out x
	expect 2 "needs --remove-after"
	run keyrite bundle build --anchor old.pem:active --expires 9d \
	    --remove-after 2030-01-01 --out x
	expect 2 "none is retiring"
	run keyrite bundle build --anchor old.pem:active --expires 9d \
	    --remove-after 2030-02-30 --out x
	expect 2 "not a date"
	run keyrite bundle build --anchor old.pem:active --expires 9d --out b1
	expect 1 "exists already"
	run keyrite bundle verify b1
	expect 2 "--trust is required"
	run keyrite bundle verify b1 --trust old.pem --min-signatures 0
	expect 2 "--min-signatures"
	run keyrite bundle sign b1.tar --key "$OLD" --cert old.pem
	expect 2 "not a directory"
	run keyrite bundle frob
	expect 2 "unknown subcommand 'frob'"
	for c in build sign verify pack inspect; do
		run keyrite bundle $c --help
		expect 0 "usage: keyrite bundle $c"
		[[ "$output" == *"example:"* ]]
	done
	run keyrite root cross-sign --help
	expect 0 "usage: keyrite root cross-sign"
	[[ "$output" == *"example:"* ]]
	run keyrite --help
	[[ "$output" == *"  bundle "* ]]
}
