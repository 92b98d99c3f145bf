#!/usr/bin/env bats
# keyrite backup create | verify | restore: a 3-of-5 backup of a root key;
# every triple of shares restores it into a fresh token where it signs a
# CRL that verifies under the original root certificate; and the table
# of share sets, passphrases, blobs and targets that must be refused with
# nothing written.  Every holder's passphrase comes from a file and the
# KDF cost is "interactive", so nothing prompts and Argon2 stays fast.

load helpers

KEY='pkcs11:token=lab;object=root-2026'
HOLDERS=(alice bob carol dave erin)
PASS=()
for h in "${HOLDERS[@]}"; do PASS+=(--passphrase-file "$h=$h.pass"); done

setup_file() {
	file_setup
	token_setup lab
	keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
	    --label root-2026 >/dev/null
	keyrite root init --key "$KEY" --pin-file user.pin \
	    --subject 'CN=Backup Test Root,O=Example' --out root.pem >/dev/null
	for h in "${HOLDERS[@]}"; do
		printf 'passphrase of %s, 7 words long\n' "$h" >"$h.pass"
	done
	# The refusals restore into this token; it must stay empty.
	keyrite hsm init-token --label empty --so-pin-file so.pin \
	    --pin-file user.pin >/dev/null
}

setup() { cd "$W"; }

# The output has $1 in it.
has() {
	[[ "$output" == *"$1"* ]] && return 0
	echo "output lacks '$1':"
	echo "$output"
	return 1
}

# Files $1 and $2 differ.
differ() { ! cmp -s "$1" "$2"; }

# Every key object in every token: SoftHSM's file store keeps one
# NAME.object file per object besides token.object.
objects() {
	find "$W/hsm/tokens" -name '*.object' ! -name token.object | sort
}

# The token labelled $1 holds no key (keyrite's view).
no_keys() {
	run keyrite hsm keys --token "pkcs11:token=$1" --pin-file user.pin --json
	expect 0
	[ "$(printf '%s' "$output" | tr -d ' \n')" = "[]" ]
}

# restore_refused MESSAGE ARGS...: a restore into token "empty" with ARGS
# exits 1 with MESSAGE, and no object appears in any token.
restore_refused() {
	local msg=$1 before
	shift
	before=$(objects)
	run keyrite backup restore --backup B/backup.blob "${PASS[@]}" \
	    --token 'pkcs11:token=empty' --pin-file user.pin "$@"
	expect 1 "$msg"
	[ "$(objects)" = "$before" ]
	local out=$output
	no_keys empty
	output=$out
}

create() {
	keyrite backup create --key "$KEY" --pin-file user.pin \
	    --kdf-cost interactive "$@"
}

# ---- create ---------------------------------------------------------------

@test "backup create: a 3-of-5 backup, one share file per holder" {
	run create --holders alice,bob,carol,dave,erin --threshold 3 --out B \
	    "${PASS[@]}"
	expect 0 "backup of key 'root-2026' (ec-p384) in B/"
	has "restore:  any 3 of the 5 shares"
	has "share-alice.txt share-bob.txt share-carol.txt share-dave.txt share-erin.txt"
	[ "$(ls B | tr '\n' ' ')" = "backup.blob share-alice.txt share-bob.txt share-carol.txt share-dave.txt share-erin.txt " ]
	for h in "${HOLDERS[@]}"; do
		[ "$(stat -c %a "B/share-$h.txt")" = 600 ]
		grep -qx "Holder: $h" "B/share-$h.txt"
		grep -qx 'Threshold: 3' "B/share-$h.txt"
	done
	grep -q '"root_sha256": "'"$(openssl x509 -in root.pem -outform DER |
	    sha256sum | cut -c1-64)"'"' B/backup.blob
	# No key material in clear anywhere.
	[ -z "$(grep -rl 'PRIVATE KEY' B)" ]
	[ -z "$(compgen -G 'B.tmp-*')" ]
	# A second backup of the same key, for the mixed-set refusal.
	run create --holders alice,bob,carol,dave,erin --threshold 3 --out B2 \
	    "${PASS[@]}"
	expect 0
	[ "$(sed -n 's/^Set: //p' B/share-alice.txt)" != \
	  "$(sed -n 's/^Set: //p' B2/share-alice.txt)" ]
}

# ---- every triple restores -----------------------------------------------

@test "backup restore: each of the 10 triples restores a key that signs a CRL valid under the original root" {
	local i=0 a b c
	for a in 0 1 2 3 4; do
	for b in $(seq $((a + 1)) 4); do
	for c in $(seq $((b + 1)) 4); do
		i=$((i + 1))
		keyrite hsm init-token --label "r$i" --so-pin-file so.pin \
		    --pin-file user.pin >/dev/null
		run keyrite backup restore --backup B/backup.blob \
		    --share "B/share-${HOLDERS[a]}.txt" \
		    --share "B/share-${HOLDERS[b]}.txt" \
		    --share "B/share-${HOLDERS[c]}.txt" "${PASS[@]}" \
		    --token "pkcs11:token=r$i" --pin-file user.pin --ca root.pem
		expect 0 "restored key 'root-2026' (ec-p384) into token 'r$i'"
		has "proved: its public key is the root's, and it signs"
		run keyrite root crl --key "pkcs11:token=r$i;object=root-2026" \
		    --pin-file user.pin --ca root.pem --out "r$i.crl"
		expect 0 "root CRL: r$i.crl"
		run openssl crl -in "r$i.crl" -verify -CAfile root.pem -noout
		expect 0 "verify OK"
	done
	done
	done
	[ "$i" -eq 10 ]
	# Each restore left its private and public key objects, and objects()
	# (which the refusals below rely on) sees them.
	[ "$(objects | wc -l)" -ge 22 ]
	# The restored key is SENSITIVE in its new token.
	run keyrite hsm keys --token 'pkcs11:token=r1' --pin-file user.pin --json
	expect 0 '"sensitive": 1'
	has '"label": "root-2026"'
}

# ---- restore refusals: nothing reaches the token ---------------------------

@test "restore refused: two shares of a 3-of-5 set" {
	restore_refused "2 shares given, but backup set" \
	    --share B/share-alice.txt --share B/share-bob.txt --ca root.pem
	has "needs 3 of its 5"
}

@test "restore refused: the same share file twice" {
	restore_refused "B/share-alice.txt is given twice" --share B/share-alice.txt \
	    --share B/share-alice.txt --share B/share-bob.txt --ca root.pem
	has "give 3 different holders"
}

@test "restore refused: a copy of a share under another name" {
	cp B/share-carol.txt copy-of-carol.txt
	restore_refused "(copy-of-carol.txt): is the same share as" \
	    --share B/share-alice.txt --share B/share-carol.txt \
	    --share copy-of-carol.txt --ca root.pem
	has "(B/share-carol.txt)"
}

@test "restore refused: a share from another backup set of the same key" {
	restore_refused "(B2/share-carol.txt): belongs to backup set" \
	    --share B/share-alice.txt --share B/share-bob.txt \
	    --share B2/share-carol.txt --ca root.pem
	has "use the shares printed at the same ceremony"
}

@test "restore refused: one character changed in a data line, the line named" {
	local line c
	line=$(grep -n '^02 ' B/share-carol.txt | cut -d: -f1)
	c=$(sed -n "${line}p" B/share-carol.txt | cut -c4)
	[ "$c" = A ] && c=B || c=A
	sed "${line}s/^\(02 \)./\1$c/" B/share-carol.txt >typo-carol.txt
	[ "$(cmp typo-carol.txt B/share-carol.txt | wc -l)" -eq 1 ]
	[ "$(cmp -l typo-carol.txt B/share-carol.txt | wc -l)" -eq 1 ]
	restore_refused "typo-carol.txt: line $line: data line 02: checksum mismatch; retype it" \
	    --share B/share-alice.txt --share B/share-bob.txt \
	    --share typo-carol.txt --ca root.pem
}

@test "restore refused: a header field changed (holder name, index)" {
	sed 's/^Holder: carol$/Holder: carl/' B/share-carol.txt >carl.txt
	differ carl.txt B/share-carol.txt
	restore_refused "carl.txt: line" --share B/share-alice.txt \
	    --share B/share-bob.txt --share carl.txt --ca root.pem
	has "the Check line does not match the header and data"
	sed 's/^Index: 3$/Index: 4/' B/share-carol.txt >index4.txt
	differ index4.txt B/share-carol.txt
	restore_refused "index4.txt: line" --share B/share-alice.txt \
	    --share B/share-bob.txt --share index4.txt --ca root.pem
	has "the Check line does not match the header and data"
}

@test "restore refused: a wrong passphrase, naming the share file" {
	echo 'not the passphrase' >wrong.pass
	local before
	before=$(objects)
	run keyrite backup restore --backup B/backup.blob \
	    --share B/share-alice.txt --share B/share-bob.txt \
	    --share B/share-carol.txt --passphrase-file alice=alice.pass \
	    --passphrase-file bob=wrong.pass --passphrase-file carol=carol.pass \
	    --token 'pkcs11:token=empty' --pin-file user.pin --ca root.pem
	expect 1 "B/share-bob.txt: wrong passphrase for share 2 (holder bob)"
	[ "$(objects)" = "$before" ]
	no_keys empty
}

@test "restore refused: a --ca that is not the backup's root" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
	    -keyout other.key -subj '/CN=Backup Test Root/O=Example' \
	    -out other.pem 2>/dev/null
	restore_refused "other.pem is not the root certificate this backup was made for" \
	    --share B/share-alice.txt --share B/share-bob.txt \
	    --share B/share-carol.txt --ca other.pem
}

@test "restore refused: a token that already holds the label; its key untouched" {
	local keys_before before
	run keyrite hsm keys --token 'pkcs11:token=r1' --pin-file user.pin --json
	expect 0 '"label": "root-2026"'
	keys_before=$output
	before=$(objects)
	run keyrite backup restore --backup B/backup.blob \
	    --share B/share-bob.txt --share B/share-dave.txt \
	    --share B/share-erin.txt "${PASS[@]}" \
	    --token 'pkcs11:token=r1' --pin-file user.pin --ca root.pem
	expect 1 "token 'r1' already holds an object labelled 'root-2026'"
	[ "$(objects)" = "$before" ]
	run keyrite hsm keys --token 'pkcs11:token=r1' --pin-file user.pin --json
	expect 0
	[ "$output" = "$keys_before" ]
	# And it still signs as the root.
	run keyrite root crl --key 'pkcs11:token=r1;object=root-2026' \
	    --pin-file user.pin --ca root.pem --out r1-after.crl
	expect 0
	run openssl crl -in r1-after.crl -verify -CAfile root.pem -noout
	expect 0 "verify OK"
}

# ---- verify ---------------------------------------------------------------

@test "backup verify: three good shares, and no HSM at all" {
	# The module cannot even start with this configuration ...
	run env SOFTHSM2_CONF="$W/nonexistent.conf" keyrite hsm tokens
	expect 1 "C_Initialize"
	# ... and verify does not need it.
	run env SOFTHSM2_CONF="$W/nonexistent.conf" keyrite backup verify \
	    --backup B/backup.blob --share B/share-bob.txt \
	    --share B/share-dave.txt --share B/share-erin.txt "${PASS[@]}"
	expect 0 "backup OK: 3 shares rebuild the wrapping key of B/backup.blob, and the blob is intact"
	has "key:      'root-2026' (ec-p384)"
	has "restore needs 3 of 5 shares"
}

@test "backup verify: refuses a share set short of the threshold, without a passphrase" {
	run keyrite backup verify --backup B/backup.blob \
	    --share B/share-bob.txt --share B/share-dave.txt \
	    --passphrase-file bob=nope.pass --passphrase-file dave=nope.pass
	expect 1 "needs 3 of its 5"
	[[ "$output" != *nope.pass* ]]
}

@test "backup verify: refuses a blob altered after creation" {
	rm -rf BL BM
	cp -r B BL
	sed -i 's/"label": "root-2026"/"label": "root-2027"/' BL/backup.blob
	differ BL/backup.blob B/backup.blob
	run keyrite backup verify --backup BL/backup.blob --share BL/share-alice.txt \
	    --share BL/share-bob.txt --share BL/share-carol.txt "${PASS[@]}"
	expect 1 "was made for a different backup blob than this one (secret id differs); is the blob altered?"
	has "BL/share-alice.txt"
	# The MAC itself altered: the shares rebuild W, which does not match.
	cp -r B BM
	local c
	c=$(sed -n 's/^  "mac": "\(.\).*/\1/p' BM/backup.blob)
	[ "$c" = 0 ] && c=1 || c=0
	sed -i "s/^  \"mac\": \"./  \"mac\": \"$c/" BM/backup.blob
	[ "$(cmp -l BM/backup.blob B/backup.blob | wc -l)" -eq 1 ]
	run keyrite backup verify --backup BM/backup.blob --share BM/share-alice.txt \
	    --share BM/share-bob.txt --share BM/share-carol.txt "${PASS[@]}"
	expect 1 "the blob's MAC does not match"
	# Restore refuses the altered blob too, and writes nothing.
	local before
	before=$(objects)
	run keyrite backup restore --backup BL/backup.blob \
	    --share BL/share-alice.txt --share BL/share-bob.txt \
	    --share BL/share-carol.txt "${PASS[@]}" \
	    --token 'pkcs11:token=empty' --pin-file user.pin --ca root.pem
	expect 1 "secret id differs"
	[ "$(objects)" = "$before" ]
	no_keys empty
}

# ---- create refusals ------------------------------------------------------

# create_refused STATUS MESSAGE ARGS...: create with ARGS --out NEW exits
# STATUS with MESSAGE, before any passphrase (alice's file does not
# exist), and leaves neither NEW nor NEW.tmp-*.
create_refused() {
	local want=$1 msg=$2
	shift 2
	run create --out NEW --passphrase-file alice=missing.pass "$@"
	expect "$want" "$msg"
	[[ "$output" != *missing.pass* ]]
	[ ! -e NEW ]
	[ -z "$(compgen -G 'NEW.tmp-*')" ]
}

@test "create refused: the output directory exists, before any passphrase" {
	local before
	before=$(ls -l --time-style=+%s.%N B | sha256sum)
	run create --holders alice,bob,carol --threshold 2 --out B \
	    --passphrase-file alice=missing.pass
	expect 1 "B: exists already; keyrite never writes into an existing output directory"
	[[ "$output" != *missing.pass* ]]
	[ "$(ls -l --time-style=+%s.%N B | sha256sum)" = "$before" ]
	[ -z "$(compgen -G 'B.tmp-*')" ]
}

@test "create refused: threshold above the holders (usage, exit 2)" {
	create_refused 2 "need 2 <= --threshold (4) <= the number of --holders (3)" \
	    --holders alice,bob,carol --threshold 4
}

@test "create refused: threshold 1 (usage, exit 2)" {
	create_refused 2 "need 2 <= --threshold (1)" \
	    --holders alice,bob,carol --threshold 1
}

@test "create refused: a holder named twice (usage, exit 2)" {
	create_refused 2 "--holders names 'bob' twice" \
	    --holders alice,bob,carol,bob --threshold 2
}

@test "create refused: an empty holder name (usage, exit 2)" {
	create_refused 2 "--holders has an empty name in 'alice,,carol'" \
	    --holders alice,,carol --threshold 2
	create_refused 2 "--holders has an empty name in 'alice,bob,'" \
	    --holders alice,bob, --threshold 2
}

@test "create refused: a key made with --no-backup; no directory left" {
	run keyrite hsm keygen --token 'pkcs11:token=lab' --pin-file user.pin \
	    --label nobak --no-backup
	expect 0 "not extractable"
	run keyrite root init --key 'pkcs11:token=lab;object=nobak' \
	    --pin-file user.pin --subject 'CN=No Backup Root' --out nobak.pem
	expect 0
	run keyrite backup create --key 'pkcs11:token=lab;object=nobak' \
	    --pin-file user.pin --kdf-cost interactive \
	    --holders alice,bob,carol --threshold 2 --ca nobak.pem \
	    --out NB "${PASS[@]}"
	expect 1 "key 'nobak' was generated with --no-backup and can never be backed up"
	[ ! -e NB ]
	[ -z "$(compgen -G 'NB.tmp-*')" ]
}

@test "no private key was written by keyrite" {
	run bash -c "grep -rl 'PRIVATE KEY' $W/B $W/B2 $W/*.crl $W/root.pem"
	[ -z "$output" ]
}
