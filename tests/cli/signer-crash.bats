#!/usr/bin/env bats
# keyrited under load, killed with SIGKILL (the front and its signer
# processes at once), then restarted: every certificate a client
# received is in the store, no serial is there twice, every revocation
# a client was told of holds, the next CRL number is higher than any
# published before, and reservations the crash left pending are
# reported abandoned.

load helpers

setup_file() {
	file_setup
	kd_ca_setup
	kd_prov load --allow '*.load.lab.internal'
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p got resp crls
	LOOPS=()
}

teardown() {
	touch stop
	local p
	# (wait with no pid would wait for the daemon too)
	for p in "${LOOPS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	kd_stop || true
}

# A client: mint a token and POST /v1/sign until ./stop exists; each
# answer received in full (201, curl exit 0) is kept as resp/K-I.json
# and its certificate written to got/K-I.pem once the load is over.
client() {
	local k=$1 i=0 tok http csrjson
	set +e
	trap - ERR
	csr "c$k" "/CN=c$k.load.lab.internal"
	csrjson=$(jq -Rs . "c$k.csr")
	while [ ! -e stop ]; do
		i=$((i + 1))
		tok=$(kd_token load "c$k.load.lab.internal" 2>/dev/null) || {
			sleep 0.05
			continue
		}
		printf '{"csr": %s, "token": "%s"}' "$csrjson" "$tok" \
		    >"req-$k.json"
		http=$(curl -s --max-time 20 --cacert "$W/root.pem" \
		    -H 'Content-Type: application/json' \
		    --data-binary "@req-$k.json" -o "resp-$k.json" \
		    -w '%{http_code}' "$KD_API/v1/sign") || http=000
		if [ "$http" = 201 ]; then
			mv "resp-$k.json" "resp/$k-$i.json"
		else
			sleep 0.05
		fi
	done
}

# Revoke a received certificate (over mTLS with its key) now and then;
# the serials the daemon confirmed (200) go to revoked.list.
revoker() {
	local f k http
	set +e
	trap - ERR
	while [ ! -e stop ]; do
		sleep 0.2
		f=$(ls resp 2>/dev/null | shuf -n 1)
		[ -n "$f" ] || continue
		k=${f%%-*}
		jq -j .certificate "resp/$f" >revoke.pem || continue
		http=$(curl -s --max-time 20 --cacert "$W/root.pem" \
		    --cert revoke.pem --key "c$k.key" \
		    -H 'Content-Type: application/json' \
		    --data '{"reason": "superseded"}' -o rev.json \
		    -w '%{http_code}' "$KD_API/v1/revoke") || http=000
		if [ "$http" = 200 ]; then
			jq -r .serial rev.json >>revoked.list
		fi
	done
}

# Fetch the CRL now and then into crls/N.der.
crl_fetcher() {
	local n=0
	set +e
	trap - ERR
	while [ ! -e stop ]; do
		if curl -sf --max-time 5 "$KD_PUB/crl/intermediate.crl" \
		    -o crls/tmp.der; then
			n=$((n + 1))
			mv crls/tmp.der "crls/$n.der"
		fi
		sleep 0.1
	done
}

start_load() {
	local k
	for k in 1 2 3 4; do
		client "$k" 3>&- &
		LOOPS+=($!)
	done
	revoker 3>&- &
	LOOPS+=($!)
	crl_fetcher 3>&- &
	LOOPS+=($!)
}

# SIGKILL the front and its signers in one kill(1); wait for the loops.
crash() {
	local main=$KD_PID kids p f
	kids=$(pgrep -P "$main")
	[ -n "$kids" ]
	kill -9 "$main" $kids
	wait "$main" 2>/dev/null || true
	KD_PID=
	touch stop
	for p in "${LOOPS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	LOOPS=()
	for p in $main $kids; do
		pid_gone "$p"
	done
	rm -f stop
	# What the clients received.
	for f in resp/*.json; do
		[ -e "$f" ] || continue
		p=${f#resp/}
		jq -j .certificate "$f" >"got/${p%.json}.pem"
	done
}

# After the restart: the checks of the acceptance test.  $1: the
# serials left pending before the restart (a file).
check_after_restart() {
	local n s max=0 crlnum all

	keyrited certs --home "$KD" --json --all >all.json
	# No serial twice in the store.
	all=$(jq -r '.[].serial' all.json | sort)
	[ -z "$(uniq -d <<<"$all")" ] || {
		echo "serials twice in the store: $(uniq -d <<<"$all")"
		return 1
	}
	# Every certificate a client received is there, valid or revoked.
	n=0
	: >received.list
	for f in got/*.pem; do
		[ -e "$f" ] || continue
		cert_serial "$f" >>received.list
		n=$((n + 1))
	done
	echo "# $n certificates received, $(sort -u revoked.list 2>/dev/null | wc -l) revoked" >&3
	[ "$n" -gt 0 ]
	[ -z "$(sort received.list | uniq -d)" ]
	run openssl verify -x509_strict -CAfile "$W/root.pem" \
	    -untrusted "$W/int.pem" got/*.pem
	[ "$status" = 0 ] && [ "$(grep -c ': OK$' <<<"$output")" = "$n" ] || {
		echo "received certificates that do not verify: $output"
		return 1
	}
	jq -r '.[] | select(.status == "valid" or .status == "revoked") | .serial' \
	    all.json | sort >issued.list
	missing=$(sort received.list | comm -23 - issued.list)
	[ -z "$missing" ] || {
		echo "received but not in the store as issued: $missing"
		return 1
	}
	# Every revocation a client was told of is in the store and the CRL.
	if [ -s revoked.list ]; then
		jq -r '.[] | select(.status == "revoked") | .serial' all.json |
		    sort >store-revoked.list
		missing=$(sort -u revoked.list | comm -23 - store-revoked.list)
		[ -z "$missing" ] || {
			echo "revoked (200) but not in the store so: $missing"
			return 1
		}
	fi
	# The highest CRL number published before the crash: those fetched
	# and the one left on disk.
	for f in crls/*.der pre-crash.crl; do
		[ -e "$f" ] || continue
		n=$(crl_number "$f")
		[ "$n" -le "$max" ] || max=$n
	done
	[ "$max" -gt 0 ]
	curl -sf "$KD_PUB/crl/intermediate.crl" -o after.crl
	crlnum=$(crl_number after.crl)
	echo "# CRL number: $max before the crash, $crlnum after" >&3
	[ "$crlnum" -gt "$max" ] || {
		echo "CRL number $crlnum after the restart is not above $max"
		return 1
	}
	if [ -s revoked.list ]; then
		openssl crl -inform DER -in after.crl -noout -text |
		    sed -n 's/^ *Serial Number: //p' | tr 'A-F' 'a-f' |
		    sort >crl-serials.list
		missing=$(sort -u revoked.list | comm -23 - crl-serials.list)
		[ -z "$missing" ] || {
			echo "revoked but not on the new CRL: $missing"
			return 1
		}
	fi
	# Pending reservations were abandoned, and the daemon said so.
	while read -r s; do
		[ -n "$s" ] || continue
		[ "$(jq -r --arg s "$s" '.[] | select(.serial == $s) | .status' all.json)" = abandoned ] || {
			echo "pending $s is not abandoned after the restart"
			return 1
		}
		sed -n '/^--- kd_start/h; /^--- kd_start/!H; ${x;p}' "$KD_LOG" |
		    grep -q "serial $s .*abandoned" || {
			echo "the restarted daemon did not report $s abandoned"
			return 1
		}
	done <"$1"
	[ -z "$(jq -r '.[] | select(.status == "pending") | .serial' all.json)" ]
	# And it issues again.
	kd_issue again.load.lab.internal load
}

pending_now() {
	keyrited certs --home "$KD" --json --all |
	    jq -r '.[] | select(.status == "pending") | .serial'
}

@test "SIGKILL under load: nothing received is lost, no serial twice, CRL numbers go up" {
	kd_start
	start_load
	sleep 3
	[ "$(ls resp | wc -l)" -gt 0 ]
	crash
	cp "$KD/publish/crl/intermediate.crl" pre-crash.crl
	pending_now >pending.list
	echo "# $(wc -l <pending.list) reservation(s) left pending" >&3
	kd_start --same
	check_after_restart pending.list
}

@test "SIGKILL with signatures in flight: the pending reservations are abandoned at restart" {
	kd_start
	start_load
	sleep 1.5
	# Stop the signers, so requests wait with their serial reserved.
	kids=$(pgrep -P "$KD_PID")
	kill -STOP $kids
	sleep 0.7
	crash
	cp "$KD/publish/crl/intermediate.crl" pre-crash.crl
	pending_now >pending.list
	echo "# $(wc -l <pending.list) reservation(s) left pending" >&3
	[ -s pending.list ]
	kd_start --same
	grep -q 'abandoned' "$KD_LOG"
	check_after_restart pending.list
}
