#!/usr/bin/env bats
# A root from `keyrite root init`, an intermediate from `keyrite root
# sign` (CSR by openssl req), and a leaf signed by that intermediate with
# `openssl x509 -req`, checked by three independent implementations:
# OpenSSL (-x509_strict), GnuTLS certtool, NSS certutil.  A leaf for a
# name outside the root's permitted subtrees must fail in all three.

load ../cli/helpers

setup_file() {
	file_setup
	token_setup interop
	for t in ec-p384 rsa-3072; do
		keyrite hsm keygen --token 'pkcs11:token=interop' --pin-file user.pin \
		    --label "root-$t" --type "$t" >/dev/null
		mkdir -p "$t"
		keyrite root init --key "pkcs11:token=interop;object=root-$t" \
		    --pin-file user.pin --subject "CN=Interop Root $t,O=Example" \
		    --days 3650 --permitted-dns lab.internal \
		    --permitted-ip 10.0.0.0/8 --out "$t/root.pem" >/dev/null
		(cd "$t" && csr int "/CN=Interop Issuing CA $t/O=Example")
		keyrite root sign --key "pkcs11:token=interop;object=root-$t" \
		    --pin-file user.pin --ca "$t/root.pem" --csr "$t/int.csr" \
		    --days 1095 --out "$t/int.pem" >/dev/null
	done
}

setup() { cd "$W"; }

# leaf DIR NAME SAN: a leaf signed by DIR's intermediate with openssl.
leaf() {
	local d=$1 name=$2 san=$3
	cat >"$d/$name.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $san
EXT
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/$name.key" -subj "/CN=${san#DNS:}" -out "$d/$name.csr" 2>/dev/null
	openssl x509 -req -in "$d/$name.csr" -CA "$d/int.pem" -CAkey "$d/int.key" \
	    -set_serial "0x$(openssl rand -hex 16 | sed 's/^[89a-f]/7/')" \
	    -days 1 -sha256 -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null
	cat "$d/$name.pem" "$d/int.pem" >"$d/$name-chain.pem"
}

ossl() { openssl verify -x509_strict -CAfile "$1/root.pem" -untrusted "$1/int.pem" "$1/$2.pem"; }
gnutls() { certtool --verify --load-ca-certificate "$1/root.pem" --infile "$1/$2-chain.pem"; }
nss() {
	local d=$1 name=$2 db="$1/nss-$2"
	rm -rf "$db"; mkdir -p "$db"
	certutil -N -d "sql:$db" --empty-password
	certutil -A -d "sql:$db" -n root -t "C,," -i "$d/root.pem"
	certutil -A -d "sql:$db" -n int -t ",," -i "$d/int.pem"
	certutil -A -d "sql:$db" -n leaf -t ",," -i "$d/$name.pem"
	certutil -V -d "sql:$db" -n leaf -u V
}

@test "openssl -x509_strict accepts root, intermediate and leaf inside the constraints" {
	for t in ec-p384 rsa-3072; do
		leaf "$t" good DNS:svc.lab.internal
		run openssl verify -x509_strict -CAfile "$t/root.pem" "$t/int.pem"
		expect 0 "OK"
		run ossl "$t" good
		expect 0 "good.pem: OK"
	done
}

@test "GnuTLS certtool --verify accepts the chain" {
	for t in ec-p384 rsa-3072; do
		run gnutls "$t" good
		expect 0 "Chain verification output: Verified"
	done
}

@test "NSS certutil -V accepts the leaf" {
	for t in ec-p384 rsa-3072; do
		run nss "$t" good
		expect 0 "certificate is valid"
	done
}

@test "openssl rejects a leaf outside the permitted subtrees" {
	for t in ec-p384 rsa-3072; do
		leaf "$t" evil DNS:www.example.com
		run ossl "$t" evil
		[ "$status" -ne 0 ]
		[[ "$output" == *"permitted subtree violation"* ]]
	done
}

@test "GnuTLS rejects a leaf outside the permitted subtrees" {
	for t in ec-p384 rsa-3072; do
		run gnutls "$t" evil
		[ "$status" -ne 0 ]
		[[ "$output" == *"Not verified"* ]]
	done
}

@test "NSS rejects a leaf outside the permitted subtrees" {
	for t in ec-p384 rsa-3072; do
		run nss "$t" evil
		[ "$status" -ne 0 ]
		[[ "$output" == *"not permitted to issue a certificate with this name"* ]]
	done
}

@test "an address outside 10.0.0.0/8 is rejected by all three" {
	t=ec-p384
	leaf "$t" evilip IP:192.168.1.10
	run ossl "$t" evilip
	[ "$status" -ne 0 ]
	run gnutls "$t" evilip
	[ "$status" -ne 0 ]
	run nss "$t" evilip
	[ "$status" -ne 0 ]
}

@test "the root CRL verifies with openssl and GnuTLS" {
	t=ec-p384
	run keyrite root crl --key "pkcs11:token=interop;object=root-$t" \
	    --pin-file user.pin --ca "$t/root.pem" --out "$t/root.crl"
	expect 0
	run openssl crl -in "$t/root.crl" -CAfile "$t/root.pem" -verify -noout
	expect 0 "verify OK"
	run certtool --verify-crl --load-ca-certificate "$t/root.pem" --infile "$t/root.crl"
	expect 0 "Verified"
}
