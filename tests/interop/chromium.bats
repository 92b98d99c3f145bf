#!/usr/bin/env bats
# A browser as the relying party: Debian's Chromium, headless, with its
# own temporary HOME and profile, whose NSS database ($HOME/.pki/nssdb,
# where Chromium on Linux reads the user's trust) is the one keyrite-trust
# wrote when it applied the rotation bundle keyrited published at
# /trust/bundle.tar.  It
# loads an HTTPS page from `openssl s_server` using a keyrited leaf:
#
#   - before the rotation: bundle v1 (old root active, new root next),
#     a leaf from a keyrited intermediate under the old root;
#   - after it: bundle v2 (new root active, old root retiring), a leaf
#     from a keyrited intermediate under the new root;
#   - a leaf for a name outside the roots' name constraints (keyrited
#     refuses it; signed here with the intermediate's key by openssl)
#     fails, while the same kind of leaf for a permitted name loads;
#   - with an empty NSS database nothing loads.
#
# Success is the page's marker in the DOM Chromium dumps; failure is no
# marker and "net::ERR_CERT_..." in its log.  Each run's DOM, log and
# screenshot stay in $W/chromium/CASE/ (printed on failure).

load ../cli/helpers

OLD='pkcs11:token=lab;object=root'
NEW='pkcs11:token=lab;object=new'
NAME=www.web.lab.internal
OUTSIDE=www.example.com
MARKER=keyrite-chromium-page-9f3c1e

setup_file() {
	command -v chromium >/dev/null ||
	    { echo "chromium is not installed (scripts/install-deps.sh)"; return 1; }
	file_setup
	# The old root (lab.internal, 10.0.0.0/8, 127.0.0.1/32) and a
	# keyrited home $KD whose intermediate it signed.
	kd_ca_setup
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
	    --label new --type ec-p256 >/dev/null
	keyrite root init --key "$NEW" --pin-file user.pin \
	    --subject 'CN=Test Root 2' --days 3650 --permitted-dns lab.internal \
	    --permitted-ip 10.0.0.0/8 --permitted-ip 127.0.0.1/32 \
	    --out new.pem >/dev/null
	keyrite root cross-sign --key "$OLD" --pin-file user.pin --ca root.pem \
	    --cert new.pem --out cross-new.pem >/dev/null
	keyrite root cross-sign --key "$NEW" --pin-file user.pin --ca new.pem \
	    --cert root.pem --out cross-old.pem >/dev/null
	# A second keyrited home, $W/kd2, whose intermediate the new root
	# signed (its key in a file, so openssl can sign with it below).
	keyrited init --home kd2 --subject 'CN=Test Issuing CA 2' \
	    --public-url http://127.0.0.1:9 >/dev/null
	keyrite root sign --key "$NEW" --pin-file user.pin --ca new.pem \
	    --csr kd2/intermediate.csr --profile intermediate --days 365 \
	    --out int2.pem >/dev/null
	keyrited install --home kd2 --cert int2.pem --root new.pem >/dev/null
	# Bundle v1 announces the new root; v2 makes it active.
	keyrite bundle build --anchor root.pem:active --anchor new.pem:next \
	    --cross cross-new.pem --cross cross-old.pem --expires 90d \
	    --out b1 >/dev/null
	keyrite bundle sign b1 --key "$OLD" --pin-file user.pin --cert root.pem >/dev/null
	keyrite bundle sign b1 --key "$NEW" --pin-file user.pin --cert new.pem >/dev/null
	keyrite bundle pack b1 --out b1.tar >/dev/null
	keyrite bundle build --anchor root.pem:retiring --anchor new.pem:active \
	    --cross cross-new.pem --previous b1 --expires 90d \
	    --remove-after "$(date -u -d '+30 days' +%Y-%m-%d)" --out b2 >/dev/null
	keyrite bundle sign b2 --key "$OLD" --pin-file user.pin --cert root.pem >/dev/null
	keyrite bundle sign b2 --key "$NEW" --pin-file user.pin --cert new.pem >/dev/null
	keyrite bundle pack b2 --out b2.tar >/dev/null
	# The endpoint pins the old root by its fingerprint.
	keyrite-trust bootstrap --root root.pem --root-dir "$W/ep" \
	    --fingerprint "$(openssl x509 -in root.pem -outform DER | sha256sum | cut -c1-64)" >/dev/null
	# The page.
	mkdir -p www
	printf '<!DOCTYPE html>\n<html><head><title>keyrite</title></head>\n<body><h1 id="m">%s</h1><p>served with a keyrite leaf</p></body></html>\n' \
	    "$MARKER" >www/index.html
}

setup() { cd "$W"; }

teardown() {
	server_stop
	kd_stop || true
	chromium_reap "$W/chromium" >/dev/null || true
}

# endpoint_apply SRC CASE: keyrite-trust applies the bundle SRC (a .tar
# or a URL) to the endpoint $W/ep (its --root-dir; NSS store of the user
# whose HOME is /home/tester), then gives CASE's Chromium a copy of the
# NSS database it wrote.
endpoint_apply() {
	HOME=/home/tester keyrite-trust apply "$1" --stores nss \
	    --root-dir "$W/ep" || return 1
	endpoint_copy "$2"
}

# endpoint_copy CASE: CASE's Chromium HOME gets a copy of the endpoint's
# NSS database as it is now.
endpoint_copy() {
	mkdir -p "$W/chromium/$1/home/.pki"
	cp -r "$W/ep$KT_NSSDB" "$W/chromium/$1/home/.pki/"
}

# pids of processes whose command line contains $1.
procs_with() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		grep -qasF -- "$1" "$p/cmdline" 2>/dev/null && echo "${p#/proc/}"
	done
}

# Kill what is left of the Chromium runs under $1 (their profiles are
# there); print the pids and fail if there were any.
chromium_reap() {
	local pids
	pids=$(procs_with "--user-data-dir=$1")
	[ -z "$pids" ] && return 0
	echo "$pids"
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	return 1
}

# server_start LEAF KEY CHAIN: openssl s_server on a free port serving
# www/ over TLS with LEAF and CHAIN.  Sets SRV_PID, SRV_PORT.
server_start() {
	local i
	SRV_PORT=$(free_port)
	(cd "$W/www" && exec openssl s_server -quiet -accept "$SRV_PORT" \
	    -cert "$W/$1" -key "$W/$2" -cert_chain "$W/$3" -WWW \
	    >"$W/s_server.log" 2>&1) &
	SRV_PID=$!
	for ((i = 0; i < 50; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$SRV_PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "s_server did not start:"
	cat "$W/s_server.log"
	return 1
}

server_stop() {
	[ -n "${SRV_PID:-}" ] || return 0
	kill "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
}

# browse CASE HOST: headless Chromium with HOME=$W/chromium/CASE/home
# (its NSS db made beforehand) loads https://HOST:$SRV_PORT/index.html.
# DOM in .../dom.html, log in .../chromium.log, screenshot .../page.png.
browse() {
	local d="$W/chromium/$1" host=$2 left i
	mkdir -p "$d/home"
	echo "Chromium's DOM, log and screenshot for '$1': $d"
	# No sandbox: tests run as root, and the page is the test's own.
	# Only the test's names resolve (to loopback): nothing leaves.
	HOME="$d/home" timeout -k 5 45 chromium --headless --no-sandbox \
	    --disable-gpu --disable-dev-shm-usage --no-first-run \
	    --no-default-browser-check --disable-background-networking \
	    --disable-component-update --disable-default-apps --disable-sync \
	    --disable-extensions --password-store=basic \
	    --user-data-dir="$d/profile" --window-size=800,600 \
	    --host-resolver-rules="MAP $NAME 127.0.0.1, MAP $OUTSIDE 127.0.0.1, MAP * ~NOTFOUND" \
	    --screenshot="$d/page.png" \
	    --dump-dom "https://$host:$SRV_PORT/index.html" \
	    >"$d/dom.html" 2>"$d/chromium.log"
	echo "chromium exited $?"
	# Nothing of it may be left running.
	for ((i = 0; i < 30; i++)); do
		[ -z "$(procs_with "--user-data-dir=$d/profile")" ] && break
		sleep 0.1
	done
	if ! left=$(chromium_reap "$d/profile"); then
		echo "Chromium left processes behind: $left"
		return 1
	fi
}

# The last browse loaded the page: the marker is in the DOM.
loaded() {
	local d="$W/chromium/$1"
	if ! grep -q "id=\"m\">$MARKER<" "$d/dom.html"; then
		echo "the page did not load; Chromium said:"
		grep -v dbus "$d/chromium.log" | tail -5
		return 1
	fi
}

# The last browse was refused with a certificate error $2 (a prefix).
refused() {
	local d="$W/chromium/$1"
	if grep -q "$MARKER" "$d/dom.html"; then
		echo "the page loaded, and should not have"
		return 1
	fi
	if ! grep -q "Page load failed: net::$2" "$d/chromium.log"; then
		echo "no net::$2 error in Chromium's log:"
		grep -v dbus "$d/chromium.log" | tail -5
		return 1
	fi
}

@test "before the rotation: bundle v1's anchors in Chromium's NSS db; a keyrited leaf under the old root loads" {
	kd_start
	run keyrited trust publish --home "$KD" b1.tar
	expect 0 "as version 1"
	csr old "/CN=$NAME" "DNS:$NAME"
	keyrited issue --home "$KD" --csr old.csr --out old.pem 2>/dev/null
	server_start old.pem old.key kd/intermediate.pem
	# Without the bundle Chromium knows no keyrite root.
	mkdir -p chromium/empty/home/.pki/nssdb
	certutil -N -d sql:chromium/empty/home/.pki/nssdb --empty-password
	browse empty "$NAME"
	refused empty ERR_CERT_AUTHORITY_INVALID
	# With what keyrited publishes, applied by keyrite-trust from its
	# URL at an endpoint that pinned the old root.
	run endpoint_apply "$KD_PUB/trust/bundle.tar" before
	expect 0 "applied bundle version 1"
	run certutil -L -d sql:chromium/before/home/.pki/nssdb
	[[ "$output" == *"keyrite-"*"C,,"* ]]
	browse before "$NAME"
	loaded before
	[ -s chromium/before/page.png ]
}

@test "after the rotation: bundle v2's anchors; a keyrited leaf under the new root loads, the old one still does" {
	kd_start
	run keyrited trust publish --home "$KD" b2.tar
	expect 0 "as version 2"
	csr new "/CN=$NAME" "DNS:$NAME"
	run keyrited issue --home kd2 --csr new.csr --out new-leaf.pem
	expect 0 "issued serial"
	openssl verify -CAfile new.pem -untrusted int2.pem new-leaf.pem
	# The endpoint that applied v1 accepts v2 as its next.
	run endpoint_apply "$KD_PUB/trust/bundle.tar" after
	expect 0 "applied bundle version 2"
	[ "$(jq -r '.anchors[] | select(.state == "active") | .subject' b2/manifest.json)" = "CN=Test Root 2" ]
	server_start new-leaf.pem new.key int2.pem
	browse after "$NAME"
	loaded after
	[ -s chromium/after/page.png ]
	server_stop
	# The old root is retiring, still trusted until remove_after.
	server_start old.pem old.key kd/intermediate.pem
	mkdir -p chromium/after-old/home/.pki
	cp -r chromium/after/home/.pki/nssdb chromium/after-old/home/.pki/
	browse after-old "$NAME"
	loaded after-old
}

@test "a leaf for a name outside the constraints fails in Chromium; the same kind of leaf inside them loads" {
	csr outside "/CN=$OUTSIDE" "DNS:$OUTSIDE"
	run keyrited issue --home kd2 --csr outside.csr --out outside.pem
	expect 1 "name_outside_constraints"
	[ ! -e outside.pem ]
	# Signed anyway, with the intermediate's key, bypassing keyrited;
	# and a control leaf made the same way for a permitted name.
	for n in "$OUTSIDE" "$NAME"; do
		printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
		    'keyUsage=critical,digitalSignature' \
		    'extendedKeyUsage=serverAuth' 'subjectKeyIdentifier=hash' \
		    'authorityKeyIdentifier=keyid' "subjectAltName=DNS:$n" >"$n.ext"
		openssl x509 -req -in outside.csr -CA int2.pem -CAkey kd2/intermediate.key \
		    -set_serial "0x$(openssl rand -hex 16)" -days 1 -extfile "$n.ext" \
		    -out "direct-$n.pem" 2>/dev/null
	done
	run openssl verify -CAfile new.pem -untrusted int2.pem "direct-$OUTSIDE.pem"
	[[ "$output" == *"permitted subtree violation"* ]]
	# The endpoint's NSS db after v2.
	endpoint_copy outside
	endpoint_copy inside
	server_start "direct-$OUTSIDE.pem" outside.key int2.pem
	browse outside "$OUTSIDE"
	refused outside ERR_CERT_INVALID
	server_stop
	server_start "direct-$NAME.pem" outside.key int2.pem
	browse inside "$NAME"
	loaded inside
}

@test "no Chromium process is left behind" {
	run procs_with "--user-data-dir=$W/chromium"
	[ -z "$output" ]
}
