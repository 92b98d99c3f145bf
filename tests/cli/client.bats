#!/usr/bin/env bats
# keyrite cert request | renew | revoke and token create, offline: help,
# usage errors, bad inputs, an unreachable server (nothing left behind),
# and tokens checked by decoding them.  The exchanges with a running
# keyrited are tested where the daemon is.

load helpers

setup_file() {
	file_setup
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$W/root.key" -subj '/CN=Test Root' -days 30 \
	    -out "$W/root.pem" 2>/dev/null
	# The seed is the example in docs/jws.md.
	cat >"$W/web.provisioner" <<'EOF'
{
  "format": "keyrite-provisioner",
  "version": 1,
  "name": "web",
  "server": "https://ca.lab.internal:8443",
  "allow": ["*.web.lab.internal", "web.lab.internal"],
  "allow_ip": ["10.20.0.0/16", "fd00:20::/32"],
  "max_lifetime": 86400,
  "secret_key": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
}
EOF
	chmod 600 "$W/web.provisioner"
	# A certificate directory as 'cert request' leaves it (self-signed
	# here: renew and revoke must fail before the server is needed).
	mkdir -m 700 "$W/held"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$W/held/key.pem" -subj '/CN=svc.web.lab.internal' \
	    -days 2 -out "$W/held/cert.pem" 2>/dev/null
	# A local port nothing listens on.
	local p
	for p in $(seq 47001 47200); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p" >"$W/closed-port"
			break
		fi
	done
}

setup() {
	cd "$W"
	CLOSED="https://127.0.0.1:$(cat "$W/closed-port")"
	S=https://ca.lab.internal:8443
}

# Nothing named out* may exist in $W after a failed request.
no_out_left() {
	local left
	left=$(cd "$W" && ls -d out* 2>/dev/null || true)
	if [ -n "$left" ]; then
		echo "left behind: $left"
		return 1
	fi
}

# Decode part $2 (1 header, 2 claims) of token $1 to JSON.
jwt_part() {
	local s
	s=$(printf '%s' "$1" | cut -d. -f"$2" | tr '_-' '/+')
	while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d
}

@test "every client subcommand has --help with an example" {
	for c in "cert request" "cert renew" "cert revoke" "token create"; do
		run keyrite $c --help
		expect 0 "usage: keyrite $c"
		[[ "$output" == *"example:"* ]] || { echo "no example: $c"; false; }
	done
	run keyrite --help
	expect 0 "  cert "
	[[ "$output" == *"  token "* ]]
	run keyrite cert --help
	expect 0 "renew"
	run keyrite cert
	expect 2 "usage: keyrite cert SUBCOMMAND"
	run keyrite token frob
	expect 2 "unknown subcommand 'frob'"
}

@test "cert request: usage errors exit 2" {
	run keyrite cert request --root root.pem --provisioner web.provisioner \
	    --name a.web.lab.internal --out out
	expect 2 "--server and --root are required"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --out out
	expect 2 "--name and --out are required"
	run keyrite cert request --server $S --root root.pem \
	    --name a.web.lab.internal --out out
	expect 2 "give one of --provisioner, --token and --token-file"
	run keyrite cert request --server $S --root root.pem --token x \
	    --provisioner web.provisioner --name a.web.lab.internal --out out
	expect 2 "give one of"
	run keyrite cert request --server http://ca.lab.internal:8443 \
	    --root root.pem --provisioner web.provisioner \
	    --name a.web.lab.internal --out out
	expect 2 "is not an https:// URL"
	run keyrite cert request --server 'https://ca.lab.internal/?x=1' \
	    --root root.pem --provisioner web.provisioner \
	    --name a.web.lab.internal --out out
	expect 2 "base URL"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --name a.web.lab.internal --out out \
	    --key-type ed25519
	expect 2 "--key-type 'ed25519'"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --name a.web.lab.internal --out out \
	    --lifetime soon
	expect 2 "--lifetime 'soon' is not a duration"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --name '*.web.lab.internal' --out out
	expect 2 "is not a host name or an IP address"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --name a.web.lab.internal \
	    --san A.web.lab.internal --out out
	expect 2 "is named twice"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --name a.web.lab.internal \
	    --name b.web.lab.internal --out out
	expect 2 "--name given more than once"
	run keyrite cert request --server $S --root root.pem \
	    --provisioner web.provisioner --name a.web.lab.internal --out out \
	    --key ec
	expect 2 "unknown option '--key'"
	no_out_left
}

@test "cert renew and revoke: usage errors exit 2" {
	run keyrite cert renew --server $S --root root.pem
	expect 2 "--dir is required"
	run keyrite cert renew --server http://x --root root.pem --dir held
	expect 2 "https://"
	run keyrite cert revoke --server $S --root root.pem
	expect 2 "give either --dir or --serial"
	run keyrite cert revoke --server $S --root root.pem --dir held \
	    --serial 5c1e
	expect 2 "give either --dir or --serial"
	run keyrite cert revoke --server $S --root root.pem --dir held \
	    --provisioner web.provisioner
	expect 2 "go with --serial"
	run keyrite cert revoke --server $S --root root.pem --serial 5c1e
	expect 2 "--serial needs one of --provisioner and --token"
	run keyrite cert revoke --server $S --root root.pem --serial xyz \
	    --provisioner web.provisioner
	expect 2 "--serial 'xyz' is not a certificate serial"
	run keyrite cert revoke --server $S --root root.pem --serial 00 \
	    --provisioner web.provisioner
	expect 2 "is not a certificate serial"
	run keyrite cert revoke --server $S --root root.pem --dir held \
	    --reason sloppiness
	expect 2 "--reason 'sloppiness' is not one of"
	run keyrite cert revoke --server $S --root root.pem --dir held \
	    --reason cACompromise
	expect 2 "is not one of"
	run keyrite cert revoke --server $S --root root.pem --dir held \
	    --lifetime 1h
	expect 2 "unknown option '--lifetime'"
}

@test "token create: usage errors exit 2" {
	run keyrite token create --name a.web.lab.internal
	expect 2 "--provisioner and --name are required"
	run keyrite token create --provisioner web.provisioner \
	    --name a.web.lab.internal --lifetime 10m
	expect 2 "a token lives 1s to 5m"
	run keyrite token create --provisioner web.provisioner \
	    --name a.web.lab.internal --lifetime 0s
	expect 2 "a token lives"
	run keyrite token create --provisioner web.provisioner \
	    --name a.web.lab.internal --server http://ca.lab.internal
	expect 2 "is not an https:// URL"
	run keyrite token create --provisioner web.provisioner \
	    --name 10.20.0.5 --san 10.20.0.5
	expect 2 "named twice"
	run keyrite token create --provisioner web.provisioner \
	    --name a.web.lab.internal extra
	expect 2 "unexpected argument 'extra'"
}

@test "token create: header and claims decode as docs/api.md says" {
	run keyrite token create --provisioner web.provisioner \
	    --name svc.web.lab.internal --san 10.20.0.5 --san fd00:20::0001
	expect 0
	[ "${#lines[@]}" -eq 1 ]
	tok=$output
	[[ "$tok" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]
	hdr=$(jwt_part "$tok" 1)
	claims=$(jwt_part "$tok" 2)
	[ "$(jq -r .typ <<<"$hdr")" = keyrite-token+jwt ]
	[ "$(jq -r .alg <<<"$hdr")" = EdDSA ]
	[ "$(jq -r '.kid | length' <<<"$hdr")" -eq 43 ]
	[ "$(jq -r .iss <<<"$claims")" = web ]
	[ "$(jq -r .aud <<<"$claims")" = https://ca.lab.internal:8443 ]
	[ "$(jq -r .sub <<<"$claims")" = svc.web.lab.internal ]
	[ "$(jq -c .sans <<<"$claims")" = \
	    '["svc.web.lab.internal","10.20.0.5","fd00:20::1"]' ]
	[ "$(jq -r '.exp - .iat' <<<"$claims")" -le 300 ]
	[ "$(jq -r '.exp - .iat' <<<"$claims")" -gt 0 ]
	[ "$(jq -r '.jti | length' <<<"$claims")" -ge 22 ]
	now=$(date +%s)
	iat=$(jq -r .iat <<<"$claims")
	[ $((iat - now)) -le 5 ] && [ $((now - iat)) -le 5 ]
}

@test "token create: --server is the audience exactly; --lifetime shortens" {
	run keyrite token create --provisioner web.provisioner \
	    --server https://10.20.0.1:8443/ --name 5c1e09f2 --lifetime 90s
	expect 0
	claims=$(jwt_part "$output" 2)
	[ "$(jq -r .aud <<<"$claims")" = https://10.20.0.1:8443/ ]
	[ "$(jq -r '.exp - .iat' <<<"$claims")" -eq 90 ]
	[ "$(jq -c .sans <<<"$claims")" = '["5c1e09f2"]' ]
	# Two tokens never share a jti.
	run keyrite token create --provisioner web.provisioner --name 5c1e09f2
	j2=$(jwt_part "$output" 2 | jq -r .jti)
	[ "$(jq -r .jti <<<"$claims")" != "$j2" ]
}

@test "a missing, open or malformed provisioner file is a clear error" {
	run keyrite token create --provisioner nope.provisioner --name a.b.c
	expect 1 "nope.provisioner: No such file or directory"
	cp web.provisioner open.provisioner
	chmod 644 open.provisioner
	run keyrite token create --provisioner open.provisioner --name a.b.c
	expect 1 "open.provisioner: holds a secret key but is open to group"
	printf '{"format": "keyrite-provisioner"' >bad.provisioner
	chmod 600 bad.provisioner
	run keyrite token create --provisioner bad.provisioner --name a.b.c
	expect 1 "bad.provisioner: "
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner open.provisioner --name a.web.lab.internal --out out
	expect 1 "chmod 600"
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner bad.provisioner --name a.web.lab.internal --out out
	expect 1 "bad.provisioner: "
	no_out_left
}

@test "cert request: missing root or token file fails before anything" {
	run keyrite cert request --server "$CLOSED" --root nope.pem \
	    --provisioner web.provisioner --name a.web.lab.internal --out out
	expect 1 "nope.pem"
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --token-file nope.token --name a.web.lab.internal --out out
	expect 1 "nope.token: No such file or directory"
	printf 'two words\n' >bad.token
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --token-file bad.token --name a.web.lab.internal --out out
	expect 1 "bad.token: not a token"
	no_out_left
}

@test "cert request: an unreachable server fails naming it, leaves nothing" {
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner web.provisioner --name svc.web.lab.internal \
	    --san 10.20.0.5 --out out
	expect 1 "keyrite cert request: $CLOSED/v1/sign: Couldn't connect"
	no_out_left
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --token abc.def.ghi --name svc.web.lab.internal --out out \
	    --key-type rsa-3072
	expect 1 "Couldn't connect"
	no_out_left
}

@test "cert request: an existing --out is refused before the server" {
	mkdir out-exists
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner web.provisioner --name svc.web.lab.internal \
	    --out out-exists
	expect 1 "out-exists: exists already"
	touch out-exists/notes.txt
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner web.provisioner --name svc.web.lab.internal \
	    --out out-exists --force
	expect 1 "holds 'notes.txt', which keyrite did not write"
	rm out-exists/notes.txt
	touch out-exists/key.pem out-exists/cert.pem
	# With --force a directory of ours gets as far as the server.
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner web.provisioner --name svc.web.lab.internal \
	    --out out-exists --force
	expect 1 "Couldn't connect"
	[ ! -s out-exists/key.pem ]
	rm -r out-exists
	run keyrite cert request --server "$CLOSED" --root root.pem \
	    --provisioner web.provisioner --name svc.web.lab.internal \
	    --out no-such-dir/out
	expect 1 "directory no-such-dir does not exist"
	no_out_left
}

@test "cert renew: unreachable server, expired certificate, wrong key" {
	before=$(sha256sum held/*)
	run keyrite cert renew --server "$CLOSED" --root root.pem --dir held
	expect 1 "$CLOSED/v1/renew: Couldn't connect"
	KEYRITE_NOW=2099-01-01T00:00:00Z run keyrite cert renew \
	    --server "$CLOSED" --root root.pem --dir held
	expect 1 "held/cert.pem expired at"
	[[ "$output" == *"get a new one with 'keyrite cert request'"* ]]
	[ "$before" = "$(sha256sum held/*)" ]
	mkdir -m 700 mixed
	cp held/cert.pem mixed/
	cp root.key mixed/key.pem
	run keyrite cert renew --server "$CLOSED" --root root.pem --dir mixed
	expect 1 "mixed/key.pem is not the key of mixed/cert.pem"
	run keyrite cert renew --server "$CLOSED" --root root.pem --dir nodir
	expect 1 "nodir/cert.pem"
}

@test "cert revoke: unreachable server is a clear error" {
	run keyrite cert revoke --server "$CLOSED" --root root.pem --dir held \
	    --reason keyCompromise
	expect 1 "$CLOSED/v1/revoke: Couldn't connect"
	run keyrite cert revoke --server "$CLOSED" --root root.pem \
	    --serial 5C:1E:09:F2 --provisioner web.provisioner
	expect 1 "$CLOSED/v1/revoke: Couldn't connect"
	run keyrite cert revoke --server "$CLOSED" --root root.pem \
	    --serial 5c1e09f2 --provisioner nope.provisioner
	expect 1 "nope.provisioner"
}
