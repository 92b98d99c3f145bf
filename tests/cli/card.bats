#!/usr/bin/env bats
# keyrite backup print | type-in: the paper card of a share, and the
# share typed back in from it.  The fixtures are sealed shares (passphrase
# "fuzz"); share-carol.txt is share 3 of 5, lines 15-19 its data lines.

load helpers

setup_file() {
	file_setup
	cp "$KEYRITE_TOP/tests/cli/fixtures/share-carol.txt" \
	    "$KEYRITE_TOP/tests/cli/fixtures/officer-carol.txt" "$W/"
}

setup() { cd "$W"; }

# Every non-blank line of file $1 must be in $output.
has_every_line() {
	local line
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		[[ "$output" == *"$line"* ]] || { echo "missing: $line"; return 1; }
	done <"$1"
}

@test "print shows the header fields and every armored line" {
	run keyrite backup print share-carol.txt
	expect 0 "keyrite backup share"
	[[ "$output" == *"share 3 of 5, any 3 restore"* ]]
	[[ "$output" == *"Holder          carol"* ]]
	[[ "$output" == *"Backup set      7f3a 9c01 5e22 410b c893 6d17 a450 ee29"* ]]
	[[ "$output" == *"Secret id       a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad aeaf"* ]]
	[[ "$output" == *"b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd bebf"* ]]
	[[ "$output" == *"KDF             Argon2id, opslimit 1, memlimit 8 KiB"* ]]
	[[ "$output" == *"16  02 76CGY 1CP8F"* ]]
	[[ "$output" == *"keyrite backup type-in"* ]]
	has_every_line share-carol.txt
}

@test "print names an officer credential as such" {
	run keyrite backup print officer-carol.txt
	expect 0 "keyrite officer credential"
	[[ "$output" == *"Officer quorum"* ]]
	[[ "$output" == *"Holder          Carol Q. Officer"* ]]
}

@test "print --html writes a self-contained page with the QR code and every line" {
	run keyrite backup print share-carol.txt --html card.html
	expect 0 "wrote card.html"
	[ "$(stat -c %a card.html)" = 600 ]
	output=$(sed 's|<span class="sum">||; s|</span></div>|</div>|' card.html)
	[[ "$output" == "<!DOCTYPE html>"* ]]
	[[ "$output" == *"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qrcode\""* ]]
	[[ "$output" == *"<rect x="* ]]
	[[ "$output" == *"7f3a 9c01 5e22 410b c893 6d17 a450 ee29"* ]]
	[[ "$output" == *"Received by"* ]]
	has_every_line share-carol.txt
	! grep -qiE '<script|<link|<img|src=|href=|url\(' card.html
}

@test "print --html refuses to overwrite without --force" {
	run keyrite backup print --html card2.html share-carol.txt
	expect 0
	echo keep >card2.html
	run keyrite backup print share-carol.txt --html card2.html
	expect 1 "card2.html"
	[ "$(cat card2.html)" = keep ]
	run keyrite backup print share-carol.txt --html card2.html --force
	expect 0
	grep -q "<svg" card2.html
}

@test "print: usage errors exit 2" {
	run keyrite backup print
	expect 2 "name the share file"
	run keyrite backup print share-carol.txt --force
	expect 2 "--force only applies to --html"
	run keyrite backup print --html a.html share-carol.txt --html b.html
	expect 2 "given more than once"
	run keyrite backup print share-carol.txt other.txt
	expect 2 "unexpected argument 'other.txt'"
}

@test "print of a mistyped file names the file and the line" {
	sed '16s/76CGY/76CGZ/' share-carol.txt >typo.txt
	run keyrite backup print typo.txt
	expect 1 "typo.txt: line 16: data line 02: checksum mismatch"
}

@test "type-in from a pipe rebuilds the file byte for byte" {
	run keyrite backup type-in --out typed.txt <share-carol.txt
	expect 0 "wrote typed.txt: share 3 of 5 (holder carol)"
	cmp share-carol.txt typed.txt
	[ "$(stat -c %a typed.txt)" = 600 ]
}

@test "type-in accepts lower case, no spaces and no blank line" {
	awk '/^[0-9][0-9] / { l = tolower($0); gsub(/ /, "", l); print "  " l; next }
	    /^Check/ { print tolower($0); next } /^$/ { next } { print }' \
	    officer-carol.txt >loose.txt
	run keyrite backup type-in --out loose-typed.txt <loose.txt
	expect 0 "officer credential 3 of 5"
	run keyrite backup print officer-carol.txt
	want=$(echo "$output" | head -9)
	run keyrite backup print loose-typed.txt
	expect 0
	[ "$(echo "$output" | head -9)" = "$want" ]
}

@test "type-in with one wrong character names the line and writes nothing" {
	sed '16s/1CP8F/1CP8E/' share-carol.txt >typo-in.txt
	run keyrite backup type-in --out bad.txt <typo-in.txt
	expect 1 "line 16: data line 02: checksum mismatch"
	[[ "$output" == *"bad.txt not written"* ]]
	[ ! -e bad.txt ]
}

@test "type-in with a mistyped header line fails at the Check line" {
	sed 's/^Index: 3$/Index: 4/' share-carol.txt >hdr-typo.txt
	run keyrite backup type-in --out bad.txt <hdr-typo.txt
	expect 1 "line 20: the Check line does not match the header and data"
	[ ! -e bad.txt ]
}

@test "type-in of a card not typed to the end writes nothing" {
	head -17 share-carol.txt >short.txt
	run keyrite backup type-in --out bad.txt <short.txt
	expect 1 "line 18: the input ends before -----END KEYRITE SHARE-----"
	[ ! -e bad.txt ]
}

@test "type-in refuses an existing --out before reading anything" {
	echo keep >exists.txt
	run keyrite backup type-in --out exists.txt </dev/null
	expect 1 "exists.txt"
	[ "$(cat exists.txt)" = keep ]
	run keyrite backup type-in --out exists.txt --force <share-carol.txt
	expect 0
	cmp share-carol.txt exists.txt
}

@test "type-in: usage errors exit 2" {
	run keyrite backup type-in
	expect 2 "--out FILE is required"
	run keyrite backup type-in --out x.txt share-carol.txt
	expect 2 "read from standard input"
}

@test "type-in at a terminal asks again for a mistyped line" {
	command -v script >/dev/null || skip "script(1) is not installed"
	{
		sed -n 1,15p share-carol.txt
		sed -n 16p share-carol.txt | sed 's/1CP8F/1CP8E/'
		sed -n '16,$p' share-carol.txt
	} >tty-in.txt
	run script -qec "keyrite backup type-in --out tty.txt" /dev/null \
	    <tty-in.txt
	expect 0 "line 16: data line 02: checksum mismatch; retype it"
	[[ "$output" == *"wrote tty.txt"* ]]
	cmp share-carol.txt tty.txt
}

@test "type-in at a terminal lets a header line be retyped after the Check" {
	command -v script >/dev/null || skip "script(1) is not installed"
	{
		sed -n 1,7p share-carol.txt
		echo "Index: 4"
		sed -n 9,20p share-carol.txt
		echo 8
		echo "Index: 3"
		sed -n 21p share-carol.txt
	} >tty-in2.txt
	run script -qec "keyrite backup type-in --out tty2.txt" /dev/null \
	    <tty-in2.txt
	expect 0 "retype which line? [20]"
	cmp share-carol.txt tty2.txt
}
