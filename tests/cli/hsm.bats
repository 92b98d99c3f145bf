#!/usr/bin/env bats
# keyrite hsm: tokens, init-token, keygen, keys, and their failures.

load helpers

setup_file() {
	file_setup
	token_setup lab
}

setup() { cd "$W"; }

@test "hsm tokens lists the initialised token and a free slot" {
	run keyrite hsm tokens
	expect 0 "token:        lab"
	[[ "$output" == *"not initialised (free for 'keyrite hsm init-token')"* ]]
	[[ "$output" == *"aes-key-wrap-pad"* ]]
	[[ "$output" == *"uri:          pkcs11:token=lab;serial="* ]]
}

@test "hsm tokens --json is JSON with the token" {
	run keyrite hsm tokens --json
	expect 0 '"label": "lab"'
	[[ "$output" == *'"initialized": true'* ]]
}

@test "hsm tokens with a module that does not exist fails naming it" {
	run keyrite hsm tokens --module /nonexistent/pkcs11.so
	expect 1 "/nonexistent/pkcs11.so"
}

@test "hsm init-token refuses a label in use" {
	run keyrite hsm init-token --label lab --so-pin-file so.pin --pin-file user.pin
	expect 1 "a token labelled 'lab' exists already"
}

@test "hsm init-token needs --label (usage, exit 2)" {
	run keyrite hsm init-token --so-pin-file so.pin --pin-file user.pin
	expect 2 "--label is required"
}

@test "hsm init-token without PIN files and without a terminal fails cleanly" {
	run bash -c 'setsid keyrite hsm init-token --label other </dev/null'
	expect 1 "no terminal"
}

@test "hsm keygen makes a SENSITIVE P-384 key with an RNG CKA_ID" {
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin --label root-2026
	expect 0 "generated ec-p384 key 'root-2026'"
	[[ "$output" == *"BEGIN PUBLIC KEY"* ]]
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file user.pin
	expect 0 "root-2026"
	[[ "$output" == *"sensitive:   yes (always: yes)"* ]]
	[[ "$output" == *"extractable: yes"* ]]
	[[ "$output" == *"generated in token: yes"* ]]
	[[ "$output" =~ id:\ +[0-9a-f]{32} ]]
}

@test "hsm keygen refuses a label in use" {
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin --label root-2026
	expect 1 "already holds an object labelled 'root-2026'"
}

@test "hsm keygen --no-backup makes a key that can never leave the token" {
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin --label nb --type ec-p256 --no-backup
	expect 0 "not extractable"
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file user.pin --json
	expect 0
	echo "$output" | tr -d ' \n' | grep -q '"label":"nb","id":"[0-9a-f]*","type":"ec-p256","private":true,"extractable":0,"sensitive":1,"always_sensitive":1,"never_extractable":1'
}

@test "hsm keygen rsa-3072 works; unknown types are usage errors" {
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin --label r3 --type rsa-3072
	expect 0 "generated rsa-3072 key"
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin --label r1 --type rsa-1024
	expect 2 "--type 'rsa-1024' is not one of"
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin --label e --type ed25519
	expect 2 "is not one of"
}

@test "a wrong PIN names CKR_PIN_INCORRECT and the token" {
	echo wrong-pin >bad.pin
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file bad.pin
	expect 1 "CKR_PIN_INCORRECT"
	[[ "$output" == *"token 'lab'"* ]]
}

@test "an empty or missing PIN file is an error naming the file" {
	: >empty.pin
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file empty.pin
	expect 1 "empty.pin: is empty"
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file nope.pin
	expect 1 "nope.pin"
	head -c 2000 /dev/zero | tr '\0' x >long.pin
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file long.pin
	expect 1 "long.pin: the first line is longer than 1023 bytes"
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-file "$W"
	expect 1 "Is a directory"
}

@test "the PIN can come from the URI's pin-source" {
	run keyrite hsm keys --token "pkcs11:token=lab?pin-source=file:$W/user.pin"
	expect 0 "root-2026"
}

@test "a PIN can never be given in argv: pin-value is refused" {
	run keyrite hsm keys --token 'pkcs11:token=lab?pin-value=1234'
	expect 1 "pin-value is refused"
	# No abbreviation of --pin-file is accepted either.
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin 1234
	expect 2 "unknown option '--pin'"
	run keyrite hsm keys --token 'pkcs11:token=lab' --pin-f user.pin
	expect 2 "unknown option '--pin-f'"
}

@test "a token that does not exist lists what is there" {
	run keyrite hsm keys --token 'pkcs11:token=nope' --pin-file user.pin
	expect 1 "no initialised token matches token=nope; tokens present: 'lab'"
}

@test "bad URIs are errors naming the attribute" {
	run keyrite hsm keys --token 'pkcs11:tokn=lab' --pin-file user.pin
	expect 1 "unknown attribute 'tokn'"
	run keyrite hsm keys --token 'lab' --pin-file user.pin
	expect 1 "is not a pkcs11: URI"
}

@test "repeated options and stray arguments are usage errors" {
	run keyrite hsm keys --token 'pkcs11:token=lab' --token 'pkcs11:token=x'
	expect 2 "--token given more than once"
	run keyrite hsm tokens extra
	expect 2 "unexpected argument 'extra'"
	run keyrite hsm frobnicate
	expect 2 "unknown subcommand 'frobnicate'"
}

@test "Ctrl-C at a PIN prompt restores the terminal's echo and says so" {
	command -v tmux || skip "tmux not installed"
	tm() { tmux -S "$W/tmux-hsm.sock" "$@"; }
	tm new-session -d -s pin -x 150 -y 40 \
	    "cd '$W' && SOFTHSM2_CONF='$SOFTHSM2_CONF' '$KEYRITE_BIN/keyrite' hsm keys --token 'pkcs11:token=lab'; echo EXIT=\$?; stty -a | tr ' ' '\n' | grep -x -- '-\?echo'; echo DONE; sleep 30"
	for i in $(seq 100); do
		tm capture-pane -p -t pin | grep -q "user PIN for token 'lab'" && break
		sleep 0.1
	done
	tm send-keys -t pin C-c
	for i in $(seq 100); do
		tm capture-pane -p -t pin | grep -q DONE && break
		sleep 0.1
	done
	out=$(tm capture-pane -p -t pin)
	tm kill-server
	echo "$out"
	[[ "$out" == *"interrupted while asking for the user PIN"* ]]
	[[ "$out" == *"EXIT=1"* ]]
	# echo is on again ("echo", not "-echo").
	grep -qx 'echo' <<<"$out"
}
