#!/usr/bin/env bash
# The lab flow, end to end, on throwaway SoftHSM2 tokens in build/demo/:
# a name-constrained root whose key never leaves its token, an issuing
# CA whose key lives in a second token, the root CRL, and independent
# validation of the chain; the online signer issuing, revoking and
# publishing its CRL; and a signed trust bundle an endpoint applies.
# Prints every command it runs.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${KEYRITE_BIN:-$top/$build/bin}
demo=${KEYRITE_DEMO_DIR:-$top/$build/demo}
export PATH="$bin:$PATH"
export KEYRITE_PROFILE_DIR="$top/profiles"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

rm -rf "$demo"
mkdir -p "$demo/hsm/tokens" "$demo/pins" "$demo/home"
chmod 700 "$demo/pins"
cat >"$demo/hsm/softhsm2.conf" <<CONF
directories.tokendir = $demo/hsm/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$demo/hsm/softhsm2.conf"
export KEYRITE_HOME="$demo/home"
cd "$demo"

# Random PINs in files only because this is an unattended demo; an
# operator types them at a no-echo prompt (or, with quorum activation,
# nobody knows them at all).
umask 077
for p in root-so root-user int-so int-user; do
	head -c 24 /dev/urandom | base64 | tr -d '/+=' >"pins/$p.pin"
done
umask 022

step "1. The PKCS#11 module and its slots"
run keyrite hsm tokens

step "2. A token for the offline root, and the root key generated inside it"
run keyrite hsm init-token --label lab-root --so-pin-file pins/root-so.pin --pin-file pins/root-user.pin
run keyrite hsm keygen --token 'pkcs11:token=lab-root' --pin-file pins/root-user.pin \
    --label root-2026 --type ec-p384
run keyrite hsm keys --token 'pkcs11:token=lab-root' --pin-file pins/root-user.pin

step "3. The self-signed root, constrained to lab.internal, 10.0.0.0/8 and this host's 127.0.0.1"
# 127.0.0.1/32 because the lab's online signer and services run on this
# machine's loopback; a production root names its own networks only.
run keyrite root init --key 'pkcs11:token=lab-root;object=root-2026' \
    --pin-file pins/root-user.pin --subject 'CN=Example Lab Root,O=Example' \
    --days 3650 --permitted-dns lab.internal --permitted-ip 10.0.0.0/8 \
    --permitted-ip 127.0.0.1/32 --out root.pem

step "4. The issuing CA: its key in a second token, its CSR signed in that token"
run keyrite hsm init-token --label lab-issuing --so-pin-file pins/int-so.pin --pin-file pins/int-user.pin
run keyrite hsm keygen --token 'pkcs11:token=lab-issuing' --pin-file pins/int-user.pin \
    --label issuing-2026 --type ec-p256 --no-backup
run keyrite hsm csr --key 'pkcs11:token=lab-issuing;object=issuing-2026' \
    --pin-file pins/int-user.pin --subject 'CN=Example Lab Issuing CA 1,O=Example' --out int.csr

step "5. The root signs the intermediate (linted before the root key is touched)"
run keyrite root sign --key 'pkcs11:token=lab-root;object=root-2026' \
    --pin-file pins/root-user.pin --ca root.pem --csr int.csr --profile intermediate \
    --days 1095 --out int.pem

step "6. A request the root refuses: a name outside its constraints"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj '/CN=Rogue CA' -addext 'subjectAltName=DNS:www.example.com' -out rogue.csr 2>/dev/null
printf '$ keyrite root sign ... --csr rogue.csr --out rogue.pem\n'
if keyrite root sign --key 'pkcs11:token=lab-root;object=root-2026' \
    --pin-file pins/root-user.pin --ca root.pem --csr rogue.csr --out rogue.pem; then
	echo "demo: the rogue CSR was signed; this is a bug" >&2
	exit 1
fi
echo "(refused, as it should be; rogue.pem was not written: $(ls rogue.pem 2>&1 | sed 's/.*: //'))"
rm -f rogue.csr

step "7. The root CRL, revoking nothing yet"
run keyrite root crl --key 'pkcs11:token=lab-root;object=root-2026' \
    --pin-file pins/root-user.pin --ca root.pem --out root.crl

step "8. What was made"
run keyrite inspect root.pem int.pem root.crl

step "9. Independent checks"
run openssl verify -x509_strict -CAfile root.pem int.pem
run openssl crl -in root.crl -CAfile root.pem -verify -noout
# NSS, as an SSL CA.  (GnuTLS is checked on full leaf chains in
# tests/interop; given a CA certificate alone as the end of a chain it
# matches the CA's CN against the DNS constraints, see docs.)
mkdir -p nssdb
run certutil -N -d sql:nssdb --empty-password
run certutil -A -d sql:nssdb -n root -t C,, -i root.pem
run certutil -A -d sql:nssdb -n int -t ,, -i int.pem
run certutil -V -d sql:nssdb -n int -u L

step "10. No CA private key exists outside the tokens"
if grep -rl -- '-----BEGIN .*PRIVATE KEY-----' "$demo" 2>/dev/null; then
	echo "demo: a private key file exists; this is a bug" >&2
	exit 1
fi
echo "no PEM private key anywhere under $demo"
run keyrite hsm keys --token 'pkcs11:token=lab-root' --pin-file pins/root-user.pin

# ------------------------------------------------------------------
# The online signer: its key in the issuing token, signed by the root,
# issuing a short-lived leaf to a service over its HTTPS API.
# ------------------------------------------------------------------

# A free port on the loopback, starting from $1.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}
api=$(free_port 18443)
pub=$(free_port $((api + 1)))
svc=$(free_port $((pub + 1)))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

step "11. keyrited: the online intermediate's key, made inside the issuing token"
run keyrited init --home signer --subject 'CN=Example Lab Online CA 1,O=Example' \
    --public-url "http://127.0.0.1:$pub" --api-url "https://127.0.0.1:$api" \
    --listen "127.0.0.1:$api" --publish "127.0.0.1:$pub" \
    --token 'pkcs11:token=lab-issuing;object=online-2026' --pin-file pins/int-user.pin

step "12. The root signs it; keyrited checks it chains to the root and installs it"
run keyrite root sign --key 'pkcs11:token=lab-root;object=root-2026' \
    --pin-file pins/root-user.pin --ca root.pem --csr signer/intermediate.csr \
    --profile intermediate --days 365 --out online-int.pem
run keyrited install --home signer --cert online-int.pem --root root.pem --root-crl root.crl

step "13. A provisioner that may ask for *.web.lab.internal, for at most 72 h"
run keyrited provisioner add --home signer --name web --allow '*.web.lab.internal' \
    --max-lifetime 72h --out web.provisioner
run keyrited serve -n --home signer
printf '$ keyrited serve --home signer &\n'
keyrited serve --home signer 2>signer.log &
pids+=($!)
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$pub/healthz" >/dev/null && break
	sleep 0.2
done
run curl -sS "http://127.0.0.1:$pub/healthz"

step "14. A service asks for its certificate (key made locally, 24 h by default)"
run keyrite cert request --server "https://127.0.0.1:$api" --root root.pem \
    --provisioner web.provisioner --name svc.web.lab.internal --out svc
run keyrite inspect svc/cert.pem

step "15. A TLS server with the leaf, checked by curl, GnuTLS and NSS against the root"
printf '$ openssl s_server -accept %s -cert svc/cert.pem -key svc/key.pem -cert_chain svc/chain.pem -www &\n' "$svc"
openssl s_server -quiet -accept "$svc" -cert svc/cert.pem -key svc/key.pem \
    -cert_chain svc/chain.pem -www >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$svc") 2>/dev/null && break
	sleep 0.1
done
run curl -sS -o /dev/null -w 'curl: HTTP %{http_code}, TLS verified\n' --cacert root.pem \
    --resolve "svc.web.lab.internal:$svc:127.0.0.1" "https://svc.web.lab.internal:$svc/"
run certtool --verify --load-ca-certificate root.pem --verify-hostname svc.web.lab.internal \
    --verify-purpose 1.3.6.1.5.5.7.3.1 --infile svc/fullchain.pem
run certutil -A -d sql:nssdb -n online -t ,, -i svc/chain.pem
run certutil -A -d sql:nssdb -n svc -t ,, -i svc/cert.pem
run certutil -V -d sql:nssdb -n svc -u V

step "16. The service's key is compromised: it revokes its own certificate"
run keyrite cert revoke --server "https://127.0.0.1:$api" --root root.pem --dir svc \
    --reason keyCompromise
cdp=$(openssl x509 -in svc/cert.pem -noout -ext crlDistributionPoints | sed -n 's/.*URI://p')
echo "the leaf's CRL distribution point: $cdp"
# keyrited reissues the CRL within a second or two of a revocation.
serial=$(openssl x509 -in svc/cert.pem -noout -serial | cut -d= -f2)
for _ in $(seq 50); do
	curl -sf "$cdp" -o online.crl
	openssl crl -inform DER -in online.crl -noout -text | grep -qi "$serial" && break
	sleep 0.2
done
run openssl crl -inform DER -in online.crl -out online-crl.pem
printf '$ openssl verify -crl_check -CAfile root.pem -untrusted svc/chain.pem -CRLfile online-crl.pem svc/cert.pem\n'
if openssl verify -crl_check -CAfile root.pem -untrusted svc/chain.pem \
    -CRLfile online-crl.pem svc/cert.pem 2>&1 | tee verify.out; then
	echo "demo: the revoked leaf still verifies; this is a bug" >&2
	exit 1
fi
grep -q 'certificate revoked' verify.out
echo "(refused: the CRL at the leaf's CDP lists it as revoked)"
run keyrited certs --home signer

step "17. Trust distribution: a signed bundle of the root, published by keyrited, applied by an endpoint"
# A rotation bundle lists the anchors endpoints should trust; this first
# one holds the root alone, signed by its key in the token (docs/bundle.md).
run keyrite bundle build --anchor root.pem:active --expires 90d --out bundle-1
run keyrite bundle sign bundle-1 --key 'pkcs11:token=lab-root;object=root-2026' \
    --pin-file pins/root-user.pin --cert root.pem
run keyrite bundle pack bundle-1 --out bundle-1.tar
run keyrited trust publish --home signer bundle-1.tar
# The endpoint (its stores under endpoint/, as an image build would) pins
# the root by the fingerprint read out of band, then takes the bundle
# from keyrited's URL: signatures checked before any store is touched.
fpr=$(openssl x509 -in root.pem -outform DER | sha256sum | cut -c1-64)
run keyrite-trust bootstrap --root root.pem --fingerprint "$fpr" --root-dir "$demo/endpoint"
run keyrite-trust apply "http://127.0.0.1:$pub/trust/bundle.tar" --stores pem,nss \
    --nssdb /nssdb --root-dir "$demo/endpoint"
run keyrite-trust status --root-dir "$demo/endpoint"
run openssl verify -x509_strict -CAfile endpoint/etc/keyrite/trust.pem online-int.pem

printf '\nThe lab CA is in %s:\n' "$demo"
ls -l "$demo"/*.pem "$demo"/*.crl "$demo"/*.csr
echo "Tokens: $demo/hsm (SOFTHSM2_CONF=$SOFTHSM2_CONF); root state: $demo/home"
echo "Online signer: $demo/signer (stopped now; 'keyrited serve --home $demo/signer' restarts it)"
