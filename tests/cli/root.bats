#!/usr/bin/env bats
# keyrite root init | sign | crl, with the table of requests the root must
# refuse.  Refusals must come before any PIN is asked for: those cases
# pass a PIN file that does not exist, so reaching the token would fail
# with a different message.

load helpers

KEY='pkcs11:token=lab;object=root-2026'

setup_file() {
	file_setup
	token_setup lab
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
	    --label root-2026 >/dev/null
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
	    --label other --type ec-p256 >/dev/null
}

setup() { cd "$W"; }

crlnum() { openssl crl -in "$1" -noout -crlnumber | sed 's/crlNumber=0x//; s/crlNumber=//'; }

@test "root init makes a self-signed, name-constrained root" {
	run keyrite root init --key "$KEY" --pin-file user.pin \
	    --subject 'CN=Example Lab Root,O=Example' --days 3650 \
	    --permitted-dns lab.internal --permitted-ip 10.0.0.0/8 --out root.pem
	expect 0 "root certificate: root.pem"
	[[ "$output" =~ SHA-256:\ +([0-9A-F]{4}\ ){15}[0-9A-F]{4} ]]
	run openssl verify -x509_strict -CAfile root.pem root.pem
	expect 0 "root.pem: OK"
	run openssl x509 -in root.pem -noout -text
	[[ "$output" == *"X509v3 Name Constraints: critical"* ]]
	[[ "$output" == *"DNS:lab.internal"* ]]
	[[ "$output" == *"IP:10.0.0.0/255.0.0.0"* ]]
	[[ "$output" == *"X509v3 Basic Constraints: critical"* ]]
	[[ "$output" == *"CA:TRUE"* ]]
	[[ "$output" == *"ecdsa-with-SHA384"* ]]
	# The root state directory exists and holds the root.
	ls "$KEYRITE_HOME"/roots/*/root.pem
}

@test "root init refuses to overwrite its output, before asking for a PIN" {
	cp root.pem before.pem
	run keyrite root init --key "$KEY" --pin-file nope.pin \
	    --subject 'CN=X' --out root.pem
	expect 1 "root.pem: exists already"
	cmp root.pem before.pem
}

@test "root init with a bad subject or IP range fails before the PIN, writes nothing" {
	run keyrite root init --key "$KEY" --pin-file nope.pin --subject 'XX=bad' --out r2.pem
	expect 1 "XX"
	[[ "$output" != *"nope.pin"* ]]
	[ ! -e r2.pem ]
	run keyrite root init --key "$KEY" --pin-file nope.pin --subject 'CN=R' \
	    --permitted-ip 10.0.0.0/99 --out r2.pem
	expect 1 "10.0.0.0/99"
	[[ "$output" != *"nope.pin"* ]]
	[ ! -e r2.pem ]
}

@test "root sign issues an intermediate for an openssl CSR" {
	csr int '/CN=Example Lab Issuing CA 1/O=Example'
	run keyrite root sign --key "$KEY" --pin-file user.pin --ca root.pem \
	    --csr int.csr --profile intermediate --days 1095 --out int.pem
	expect 0 "intermediate certificate: int.pem"
	run openssl verify -x509_strict -CAfile root.pem int.pem
	expect 0 "int.pem: OK"
	run openssl x509 -in int.pem -noout -text
	[[ "$output" == *"pathlen:0"* ]]
	[[ "$output" == *"X509v3 Name Constraints: critical"* ]]
	[[ "$output" == *"DNS:lab.internal"* ]]
	# The root state recorded it.
	serial=$(openssl x509 -in int.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	ls "$KEYRITE_HOME"/roots/*/issued/ | grep -qi "$serial"
}

@test "root sign --dry-run lints without a PIN and writes nothing" {
	run keyrite root sign --key "$KEY" --pin-file nope.pin --ca root.pem \
	    --csr int.csr --dry-run
	expect 0 "passes the 'intermediate' profile"
}

@test "root sign narrows name constraints when asked" {
	csr narrow '/CN=Narrow CA'
	run keyrite root sign --key "$KEY" --pin-file user.pin --ca root.pem \
	    --csr narrow.csr --permitted-dns web.lab.internal --out narrow.pem
	expect 0
	run openssl x509 -in narrow.pem -noout -ext nameConstraints
	[[ "$output" == *"DNS:web.lab.internal"* ]]
	[[ "$output" != *"DNS:lab.internal"$'\n'* ]]
}

@test "option values may follow = and option names must be exact" {
	run keyrite root sign --key="$KEY" --pin-file=nope.pin --ca=root.pem --csr=int.csr --dry-run
	expect 0 "passes"
	run keyrite root sign --ke "$KEY" --ca root.pem --csr int.csr --dry-run
	expect 2 "unknown option '--ke'"
}

# --- the refusal table --------------------------------------------------

refuse() {
	# refuse MESSAGE ARGS...: root sign must exit 1 with MESSAGE, before
	# the PIN (nope.pin does not exist), and write nothing.
	local msg=$1; shift
	rm -f bad.pem
	run keyrite root sign --key "$KEY" --pin-file nope.pin --ca root.pem \
	    --out bad.pem "$@"
	expect 1 "$msg"
	[[ "$output" != *"nope.pin"* ]]
	[ ! -e bad.pem ]
}

@test "refused: a CSR whose signature does not verify" {
	openssl req -in int.csr -outform DER -out tampered.der
	size=$(stat -c %s tampered.der)
	last=$(od -An -tu1 -j $((size - 1)) -N1 tampered.der | tr -d ' ')
	printf "$(printf '\\%03o' $(( (last ^ 1) & 255 )))" |
	    dd of=tampered.der bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
	refuse "signature does not verify" --csr tampered.der
}

@test "an absurd --days is a usage error, not an overflow" {
	run keyrite root sign --key "$KEY" --pin-file nope.pin --ca root.pem \
	    --csr int.csr --days 99999999999 --dry-run
	expect 2 "not a positive number of days"
}

@test "refused: a lifetime beyond the profile's maximum" {
	refuse "validity-max" --csr int.csr --days 4000
}

@test "refused: a lifetime beyond the issuer's notAfter" {
	KEYRITE_NOW=$(( $(date +%s) + 3600 * 86400 )) refuse "validity-issuer" --csr int.csr --days 1095
}

@test "refused: a weak key (RSA 1024)" {
	openssl req -new -newkey rsa:1024 -nodes -keyout weak.key \
	    -subj '/CN=Weak CA' -out weak.csr 2>/dev/null
	refuse "weak-key" --csr weak.csr
}

@test "refused: a key on a curve other than P-256/P-384" {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes \
	    -keyout p521.key -subj '/CN=P521 CA' -out p521.csr 2>/dev/null
	refuse "weak-key" --csr p521.csr
}

@test "refused: a CSR asking for a name outside the constraints" {
	csr evil '/CN=Evil CA' 'DNS:www.example.com'
	refuse "www.example.com" --csr evil.csr
}

@test "refused: an address outside the constraints" {
	csr evilip '/CN=Evil IP CA' 'IP:192.168.1.1'
	refuse "192.168.1.1" --csr evilip.csr
}

@test "refused: narrowing to a subtree outside the root's" {
	refuse "outside" --csr int.csr --permitted-dns example.com
}

@test "refused: a leaf profile (the root signs only CAs)" {
	refuse "not an intermediate profile" --csr int.csr --profile tls-server
}

@test "refused: a CSR file that is not a CSR" {
	echo garbage >garbage.csr
	refuse "garbage.csr" --csr garbage.csr
}

@test "refused: a profile that does not exist" {
	refuse "no-such-profile" --csr int.csr --profile no-such-profile
}

@test "refused after login: a key that is not the root's" {
	rm -f bad.pem
	run keyrite root sign --key 'pkcs11:token=lab;object=other' \
	    --pin-file user.pin --ca root.pem --csr int.csr --out bad.pem
	expect 1 "is not the key certified in root.pem"
	[ ! -e bad.pem ]
}

# --- CRLs -----------------------------------------------------------------

@test "root crl: first CRL verifies and has number 1" {
	run keyrite root crl --key "$KEY" --pin-file user.pin --ca root.pem --out root.crl
	expect 0 "CRL number: 1"
	run openssl crl -in root.crl -CAfile root.pem -verify -noout
	expect 0 "verify OK"
	[ "$(crlnum root.crl)" = 01 ]
}

@test "root crl: --revoke lists the serial with its reason; number rises" {
	run keyrite root crl --key "$KEY" --pin-file user.pin --ca root.pem \
	    --revoke int.pem --reason keyCompromise --out root.crl --force
	expect 0 "CRL number: 2"
	serial=$(openssl x509 -in int.pem -noout -serial | cut -d= -f2)
	run openssl crl -in root.crl -noout -text
	[[ "$output" == *"Serial Number: $serial"* ]]
	[[ "$output" == *"Key Compromise"* ]]
	run openssl crl -in root.crl -CAfile root.pem -verify -noout
	expect 0 "verify OK"
}

@test "root crl: revocations persist into the next CRL" {
	run keyrite root crl --key "$KEY" --pin-file user.pin --ca root.pem --out root3.crl
	expect 0 "CRL number: 3"
	serial=$(openssl x509 -in int.pem -noout -serial | cut -d= -f2)
	run openssl crl -in root3.crl -noout -text
	[[ "$output" == *"Serial Number: $serial"* ]]
}

@test "root crl: the number rises across a crash between runs" {
	run env KEYRITE_FAULT=after-crlnumber keyrite root crl --key "$KEY" \
	    --pin-file user.pin --ca root.pem --out crash.crl
	[ "$status" -eq 75 ]
	[ ! -e crash.crl ]
	run keyrite root crl --key "$KEY" --pin-file user.pin --ca root.pem --out root5.crl
	expect 0 "CRL number: 5"
	[ "$(crlnum root5.crl)" = 05 ]
}

@test "root crl: refuses to overwrite without --force, before the PIN" {
	run keyrite root crl --key "$KEY" --pin-file nope.pin --ca root.pem --out root.crl
	expect 1 "exists already"
}

@test "root crl: usage errors for --reason" {
	run keyrite root crl --key "$KEY" --pin-file user.pin --ca root.pem \
	    --reason keyCompromise --out x.crl
	expect 2 "--reason must follow the --revoke"
	run keyrite root crl --key "$KEY" --pin-file user.pin --ca root.pem \
	    --revoke int.pem --reason sadness --out x.crl
	expect 2 "not an RFC 5280 reason"
	[ ! -e x.crl ]
}

@test "root crl: refuses to revoke a certificate the root did not issue" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout s.key -subj '/CN=stranger' -out stranger.pem 2>/dev/null
	run keyrite root crl --key "$KEY" --pin-file nope.pin --ca root.pem \
	    --revoke stranger.pem --out x.crl
	expect 1 "not issued by root.pem"
	[ ! -e x.crl ]
}

@test "no private key file was written by keyrite" {
	# Only the CSR keys made by openssl in this test exist.
	run bash -c "grep -l 'PRIVATE KEY' $W/*.pem $W/*.crl 2>/dev/null"
	[ -z "$output" ]
}
