# helpers.bash: shared setup for keyrite's bats tests.  Each test file
# gets a throwaway SoftHSM2 token directory, its own KEYRITE_HOME, and PIN
# files; nothing outside $BATS_FILE_TMPDIR is touched.

: "${KEYRITE_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${KEYRITE_BIN:=$KEYRITE_TOP/build/bin}"
: "${KEYRITE_PROFILE_DIR:=$KEYRITE_TOP/profiles}"
export KEYRITE_TOP KEYRITE_BIN KEYRITE_PROFILE_DIR
export PATH="$KEYRITE_BIN:$PATH"

# Make a SoftHSM2 config in $1 and point SOFTHSM2_CONF at it.
softhsm_setup() {
	local dir=$1
	mkdir -p "$dir/tokens"
	cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
	export SOFTHSM2_CONF="$dir/softhsm2.conf"
}

# A token labelled $1 with PIN files so.pin and user.pin in $W.
token_setup() {
	local label=$1
	printf 'so-%s-0123456789\n' "$label" >"$W/so.pin"
	printf 'user-%s-0123456789\n' "$label" >"$W/user.pin"
	keyrite hsm init-token --label "$label" --so-pin-file "$W/so.pin" \
	    --pin-file "$W/user.pin" >/dev/null
}

# Per-file setup: $W is the work directory for the whole file.
file_setup() {
	export W="$BATS_FILE_TMPDIR"
	softhsm_setup "$W/hsm"
	export KEYRITE_HOME="$W/home"
	cd "$W"
}

# Assert the last `run` exited with $1 and its output contains $2.
expect() {
	local want=$1 text=${2:-}
	if [ "$status" -ne "$want" ]; then
		echo "expected exit $want, got $status; output:"
		echo "$output"
		return 1
	fi
	if [ -n "$text" ] && [[ "$output" != *"$text"* ]]; then
		echo "output lacks '$text':"
		echo "$output"
		return 1
	fi
}

# Make an EC P-256 key and CSR with openssl: csr NAME SUBJECT [SAN]
csr() {
	local name=$1 subj=$2 san=${3:-}
	local ext=()
	[ -n "$san" ] && ext=(-addext "subjectAltName=$san")
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$name.key" -subj "$subj" "${ext[@]}" -out "$name.csr" \
	    2>/dev/null
}
