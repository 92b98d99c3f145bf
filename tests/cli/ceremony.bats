#!/usr/bin/env bats
# keyrite ceremony: rehearse the shipped root-init script end to end,
# verify and tamper with its transcript, render plan and report, and run
# a ceremony for real through a terminal (tmux), including an abort by a
# wrong answer and by Ctrl-C.

load helpers

setup_file() {
	file_setup
	export SCRIPTS="$KEYRITE_TOP/ceremony/scripts"
}

setup() { cd "$W"; }

@test "rehearse root-init runs end to end and makes everything" {
	run keyrite ceremony rehearse "$SCRIPTS/root-init.yaml" --out R
	expect 0 "rehearsal completed"
	[[ "$output" == *"REHEARSAL"* ]]
	# The time each step took is printed.
	n=$(grep -c 'done in [0-9.]* s' <<<"$output")
	[ "$n" -ge 8 ]
	[ -f R/root.pem ] && [ -f R/root.crl ] && [ -f R/transcript.jsonl ]
	[ -f R/report.html ] && [ -f R/backup/backup.blob ]
	[ "$(ls R/backup/share-*.txt | wc -l)" -eq 5 ]
	[ "$(ls R/officers/*.cred | wc -l)" -eq 3 ]
	[ -f R/officers/officers.json ]
}

@test "the rehearsed root validates and is name-constrained; the CRL verifies" {
	run openssl verify -x509_strict -CAfile R/root.pem R/root.pem
	expect 0 "OK"
	run openssl x509 -in R/root.pem -noout -ext nameConstraints
	[[ "$output" == *"DNS:lab.internal"* ]]
	run openssl crl -in R/root.crl -CAfile R/root.pem -verify -noout
	expect 0 "verify OK"
	run certtool --verify-crl --load-ca-certificate R/root.pem --infile R/root.crl
	expect 0 "Verified"
}

@test "ceremony verify passes on the rehearsal and counts signatures" {
	run keyrite ceremony verify R
	expect 0 "transcript verifies"
	[[ "$output" == *"status: completed"* ]]
	[[ "$output" =~ signatures:\ [2-9] ]]
}

@test "the rehearsed backup restores with the rehearsal's shares" {
	# The shares are real: three of them pass backup verify is shown by
	# the unit tests with known passphrases; here, their headers agree.
	run keyrite backup print R/backup/share-carol.txt
	expect 0 "carol"
}

@test "follow-on scripts rehearse against the root-init rehearsal" {
	[ "$(stat -c %a R/rehearsal-secrets.json)" = 600 ]
	run keyrite ceremony rehearse "$SCRIPTS/sign-intermediate.yaml" --out RS --input R
	expect 0 "rehearsal completed"
	[[ "$output" == *"rehearsal setup: intermediate.csr made for a throwaway key"* ]]
	run openssl verify -x509_strict -CAfile R/root.pem RS/intermediate.pem
	expect 0 "OK"
	run keyrite ceremony verify RS
	expect 0 "status: completed"
	run keyrite ceremony rehearse "$SCRIPTS/root-crl.yaml" --out RC --input R
	expect 0 "rehearsal completed"
	run keyrite ceremony rehearse "$SCRIPTS/restore-backup.yaml" --out RR --input R
	expect 0 "rehearsal completed"
	[[ "$output" == *"fresh replacement token"* ]]
	run keyrite ceremony verify RR
	expect 0 "status: completed"
	# The restored key signed a CRL that the original root verifies.
	run openssl crl -in RR/root.crl -CAfile R/root.pem -verify -noout
	expect 0 "verify OK"
	# The earlier rehearsal is untouched.
	run keyrite ceremony verify R
	expect 0 "status: completed"
}

@test "a follow-on rehearsal without --input says what it needs" {
	run keyrite ceremony rehearse "$SCRIPTS/sign-intermediate.yaml" --out RX
	[ "$status" -eq 1 ]
	[[ "$output" == *"ABORTED"* || "$output" == *"aborted"* ]]
}

tamper() {
	# tamper NAME CMD...: copy R to NAME, run CMD inside it, verify fails.
	rm -rf "$1"; cp -r R "$1"
	(cd "$1" && eval "$2")
	run keyrite ceremony verify "$1"
	[ "$status" -eq 1 ]
}

@test "verify names the entry when a byte of the transcript changes" {
	tamper T1 "sed -i '5s/\"step\"/\"stap\"/' transcript.jsonl"
	[[ "$output" == *"entry"* ]]
	tamper T2 "sed -i '3s/:\([0-9]\)/:9\1/' transcript.jsonl"
	[[ "$output" == *"entry"* ]]
}

@test "verify fails when a line is removed or two lines swap" {
	tamper T3 "sed -i '4d' transcript.jsonl"
	[[ "$output" == *"entry"* ]]
	tamper T4 "awk 'NR==6{l=\$0; next} NR==7{print; print l; next} {print}' transcript.jsonl > t && mv t transcript.jsonl"
	[[ "$output" == *"entry"* ]]
}

@test "verify fails when a participant's signature is replaced" {
	# Put the first signature's sig into the second signature line.
	tamper T5 'sig1=$(grep "\"signature\"" transcript.jsonl | sed -n 1p | sed "s/.*\"sig\":\"\([0-9a-f]*\)\".*/\1/");
	    n2=$(grep -n "\"signature\"" transcript.jsonl | sed -n 2p | cut -d: -f1);
	    sed -i "${n2}s/\"sig\":\"[0-9a-f]*\"/\"sig\":\"$sig1\"/" transcript.jsonl'
	[[ "$output" == *"signature"* ]]
}

@test "verify fails when an output file is altered" {
	tamper T6 "echo x >> root.crl"
	[[ "$output" == *"root.crl"* ]]
}

@test "stripping the signatures is refused (the quorum must sign)" {
	tamper T7 "sed -i '/\"type\":\"signature\"/d; s/\"signers\":\[[^]]*\]/\"signers\":[]/' transcript.jsonl"
	[[ "$output" == *"0 officer signatures, but the script's quorum is 2"* ]]
}

@test "a transcript cut short and given a forged end is refused" {
	# Keep everything up to the end of the third step, then append a
	# correctly chained "completed" end, as an attacker without any key
	# could: only the script's steps betray it.
	tamper T8 'n=$(grep -n "\"type\":\"step-end\"" transcript.jsonl | sed -n 3p | cut -d: -f1);
	    head -n "$n" transcript.jsonl > t;
	    prev=$(tail -n 1 t | tr -d "\n" | b2sum -l 256 | cut -d" " -f1);
	    seq=$(( $(tail -n 1 t | sed "s/^{\"seq\":\([0-9]*\).*/\1/") + 1 ));
	    printf "{\"seq\":%d,\"time\":\"2026-11-23T00:00:00Z\",\"type\":\"end\",\"status\":\"completed\",\"signers\":[],\"prev\":\"%s\"}\n" "$seq" "$prev" >> t;
	    mv t transcript.jsonl'
	[[ "$output" == *"never ended"* ]]
}

@test "verify --officers pins the signers' keys" {
	run keyrite ceremony verify R --officers R/officers/officers.json
	expect 0 "transcript verifies"
	# Another quorum's published keys are not these signers'.
	run keyrite ceremony rehearse "$SCRIPTS/root-init.yaml" --out R9
	expect 0
	run keyrite ceremony verify R --officers R9/officers/officers.json
	expect 1 "does not publish"
}

@test "plan --html and report --html carry every step" {
	run keyrite ceremony plan "$SCRIPTS/root-init.yaml" --html plan.html
	expect 0
	run keyrite ceremony report R --html report.html
	expect 0
	for id in $(grep -E '^  - id: ' "$SCRIPTS/root-init.yaml" | awk '{print $3}'); do
		grep -q -- "$id" plan.html || { echo "plan lacks step $id"; false; }
		grep -q -- "$id" report.html || { echo "report lacks step $id"; false; }
	done
	grep -qi 'initial' plan.html
	grep -qi 'rehearsal' report.html
	run keyrite ceremony report R
	expect 0
}

@test "a rehearsal refuses a PKCS#11 module that is not SoftHSM2" {
	mod=$(ls /usr/lib/*/opensc-pkcs11.so 2>/dev/null | head -1)
	[ -n "$mod" ] || skip "no OpenSC module to try"
	run keyrite ceremony rehearse "$SCRIPTS/root-init.yaml" --out RM --module "$mod"
	expect 1 "rehearsals run on SoftHSM2 only"
	[ ! -e RM ]
}

@test "bad scripts are refused before anything runs" {
	cat >bad.yaml <<'YAML'
version: 1
name: bad
title: Bad
purpose: test
roles:
  - id: admin
    title: Admin
    participants: [alice]
  - id: witness
    title: Witness
    participants: [wendy]
steps:
  - id: s1
    title: Fly
    action: levitate
YAML
	run keyrite ceremony rehearse bad.yaml --out B1
	expect 1 "levitate"
	[ ! -e B1 ]
	run keyrite ceremony plan bad.yaml
	expect 1 "bad.yaml:"
}

# --- a live ceremony through a terminal ---------------------------------

# A private tmux server per test file, so parallel runs never meet.
tm() { tmux -S "$W/tmux.sock" "$@"; }

# wait_for TEXT [SECONDS]: until the tmux pane shows TEXT.
wait_for() {
	local i
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		if tm capture-pane -p -t cer -S -200 | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	echo "timed out waiting for: $1"
	tm capture-pane -p -t cer -S -200
	return 1
}

# wait_nth TEXT N [SECONDS]: until TEXT has been shown N times (a
# question asked again must be waited for anew: the runner discards
# anything typed before its question appears).
wait_nth() {
	local i c
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		c=$(tm capture-pane -p -t cer -S -2000 | grep -cF -- "$1")
		[ "$c" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for occurrence $2 of: $1"
	tm capture-pane -p -t cer -S -2000
	return 1
}

# type_in TEXT: type a line into the pane.
type_in() { tm send-keys -t cer -l -- "$1"; tm send-keys -t cer Enter; }

live_script() {
	cat >live.yaml <<'YAML'
version: 1
name: live-test
title: Live test ceremony
purpose: Exercise the interactive runner.
roles:
  - id: admin
    title: Ceremony administrator
    participants: [alice]
  - id: witness
    title: Internal witness
    participants: [wendy]
  - id: officers
    title: Security officers
    participants: [ann, ben, cat]
    threshold: 2
steps:
  - id: room
    title: Check the room
    say: Confirm the room is closed.
    action: confirm
    confirm: [witness]
  - id: quorum
    title: Officer quorum
    action: quorum-init
    confirm: [admin]
    outputs: [officers/officers.json, officers/ann.cred, officers/ben.cred, officers/cat.cred]
  - id: activate
    title: Activate the token
    action: activate
    confirm: [witness]
  - id: keygen
    title: Generate the root key
    action: keygen
    with: { label: live-root, type: ec-p256 }
    confirm: [witness]
  - id: selfsign
    title: Self-sign the root
    action: root-selfsign
    with: { key: live-root, subject: "CN=Live Root", days: 365, permitted_dns: [lab.internal], out: root.pem }
    confirm: [witness]
    outputs: [root.pem]
  - id: deactivate
    title: Deactivate
    action: deactivate
    confirm: [witness]
YAML
}

start_live() {
	# start_live DIR TOKEN: a ceremony run in a tmux pane.
	tm kill-session -t cer 2>/dev/null || true
	tm new-session -d -s cer -x 200 -y 60 \
	    "cd '$W' && SOFTHSM2_CONF='$SOFTHSM2_CONF' KEYRITE_PROFILE_DIR='$KEYRITE_PROFILE_DIR' KEYRITE_HOME='$KEYRITE_HOME' '$KEYRITE_BIN/keyrite' ceremony run live.yaml --out '$1' --token 'pkcs11:token=$2' --so-pin-file so.pin; echo CEREMONY-EXIT=\$?; sleep 60"
}

# confirm_as ROLE WHO N M: the Nth question to ROLE, the Mth 'yes' asked.
confirm_as() {
	wait_nth "$1: who confirms?" "$3" && type_in "$2" &&
	    wait_nth "Type 'yes' to confirm" "$4" && type_in yes
}

@test "ceremony run through a terminal: prompts, hidden passphrases, exact yes" {
	command -v tmux || skip "tmux not installed"
	live_script
	token_setup live1
	start_live L1 live1
	confirm_as "Internal witness" wendy 1 1
	for o in ann ben cat; do
		wait_for "passphrase of $o for a new officer credential:" && type_in "pw-$o-secret"
		wait_for "passphrase of $o for a new officer credential (again):" && type_in "pw-$o-secret"
	done
	confirm_as "Ceremony administrator" alice 1 2
	wait_for "officer 1 of 2, your name:" && type_in ben
	wait_for "ben.cred:" && type_in "pw-ben-secret"
	wait_for "officer 2 of 2, your name:" && type_in cat
	wait_for "cat.cred:" && type_in "pw-cat-secret"
	confirm_as "Internal witness" wendy 2 3
	confirm_as "Internal witness" wendy 3 4
	wait_for "Type 'yes' to sign:" && type_in yes
	confirm_as "Internal witness" wendy 4 5
	confirm_as "Internal witness" wendy 5 6
	wait_for "CEREMONY-EXIT=0" 60
	# No passphrase was echoed to the screen.
	! tm capture-pane -p -t cer -S -500 | grep -q "pw-ben-secret"
	tm kill-session -t cer
	run keyrite ceremony verify L1
	expect 0 "status: completed"
	[[ "$output" == *"signatures: 2"* ]]
	run openssl verify -x509_strict -CAfile L1/root.pem L1/root.pem
	expect 0 "OK"
}

@test "a wrong answer aborts; the transcript records it and verifies" {
	command -v tmux || skip "tmux not installed"
	live_script
	token_setup live2
	start_live L2 live2
	wait_for "who confirms?" && type_in wendy
	wait_for "Type 'yes' to confirm" && type_in no
	wait_for "CEREMONY-EXIT=1" 30
	tm kill-session -t cer
	run keyrite ceremony verify L2
	expect 0 "status: ABORTED at step room"
	[[ "$output" == *"answered 'no'"* ]]
}

@test "Ctrl-C at a prompt aborts; the transcript records it and verifies" {
	command -v tmux || skip "tmux not installed"
	live_script
	token_setup live3
	start_live L3 live3
	confirm_as "Internal witness" wendy 1 1
	wait_for "passphrase of ann for a new officer credential:"
	tm send-keys -t cer C-c
	wait_for "CEREMONY-EXIT=1" 30
	tm kill-session -t cer
	run keyrite ceremony verify L3
	expect 0 "status: ABORTED at step quorum"
	[[ "$output" == *"interrupted"* ]]
	# Nothing of the quorum was written.
	[ ! -e L3/officers/ann.cred ]
}
