#!/usr/bin/env bash
# Run keyrite's tests and end with one line "N passed, N failed".
#
#   tests/run.sh BUILD [unit] [cli] [interop] [fuzz] [ct]
#
# Suites run two at a time (the machines have two cores); each writes
# TAP to its own log, and the logs are counted at the end.  A unit
# binary or bats file that dies without a "not ok" line counts as one
# failure, so a crash is never a silent pass.  The ct suite runs each
# constant-time check under valgrind, where it must be clean, and with
# --control, where valgrind must report the deliberate leak.
set -u
build=${1:-build}
shift || true
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit cli interop fuzz ct)

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && cd "$build" && pwd) || {
	echo "tests/run.sh: build directory '$1' not found; run make first" >&2
	exit 2
}
export KEYRITE_BIN="$build/bin"
export KEYRITE_TOP="$top"
export KEYRITE_PROFILE_DIR="$top/profiles"
export CMOCKA_MESSAGE_OUTPUT=TAP
if [ -n "${KEYRITE_ASAN:-}" ]; then
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
	export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/keyrite-tests.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

jobs=()
for s in "${suites[@]}"; do
	case "$s" in
	unit)
		for t in "$build"/tests/test_*; do
			[ -x "$t" ] && jobs+=("unit:$t")
		done ;;
	cli|interop)
		for t in "$top"/tests/"$s"/*.bats; do
			[ -f "$t" ] && jobs+=("bats:$t")
		done ;;
	fuzz)
		for t in "$build"/fuzz-replay/fuzz_*; do
			[ -x "$t" ] && jobs+=("fuzz:$t")
		done ;;
	ct)
		for t in "$build"/ct/ct_*; do
			[ -x "$t" ] && jobs+=("ct:$t")
		done ;;
	*) echo "tests/run.sh: unknown suite '$s'" >&2; exit 2 ;;
	esac
done

run_one() {
	local kind=${1%%:*} path=${1#*:} log rc
	log="$logdir/$(echo "$kind-${path#"$top"/}" | tr '/' '_').log"
	case "$kind" in
	unit) (cd "$top" && "$path") >"$log" 2>&1 ;;
	bats) (cd "$top" && bats --tap "$path") >"$log" 2>&1 ;;
	fuzz)
		name=$(basename "$path")
		if (cd "$top" && "$path" "tests/fuzz/corpus/${name#fuzz_}") \
		    >"$log.out" 2>&1; then
			echo "ok 1 - $name replays its corpus" >"$log"
		else
			{ echo "not ok 1 - $name replays its corpus"
			  sed 's/^/# /' "$log.out"; } >"$log"
		fi
		rm -f "$log.out" ;;
	ct)
		name=$(basename "$path")
		vg=(valgrind -q --error-exitcode=42 --track-origins=yes)
		skip=
		command -v valgrind >/dev/null 2>&1 ||
		    skip="valgrind not installed"
		[ -z "${KEYRITE_ASAN:-}" ] || skip="valgrind cannot run ASan"
		if [ -n "$skip" ]; then
			echo "ok 1 - $name # skip $skip" >"$log"
		else
			: >"$log"
			if (cd "$top" && "${vg[@]}" "$path") >"$log.out" 2>&1
			then
				echo "ok 1 - $name: constant time" >>"$log"
			else
				{ echo "not ok 1 - $name: secret-dependent" \
				    "branch or index (or a failed check)"
				  sed 's/^/# /' "$log.out"; } >>"$log"
			fi
			(cd "$top" && "${vg[@]}" "$path" --control) \
			    >"$log.out" 2>&1
			if [ $? = 42 ] &&
			    grep -q 'uninitialised value' "$log.out"; then
				echo "ok 2 - $name --control: valgrind sees" \
				    "the deliberate leak" >>"$log"
			else
				{ echo "not ok 2 - $name --control: valgrind" \
				    "missed the deliberate leak"
				  sed 's/^/# /' "$log.out"; } >>"$log"
			fi
		fi
		rm -f "$log.out" ;;
	esac
	rc=$?
	echo "$rc" >"$log.rc"
}
export -f run_one
export logdir top

printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {}

passed=0 failed=0 skipped=0
for log in "$logdir"/*.log; do
	[ -f "$log" ] || continue
	name=$(basename "$log" .log)
	p=$(grep -cE '^ok ' "$log" | head -1)
	s=$(grep -cE '^ok .*# ?(skip|SKIP)' "$log" | head -1)
	f=$(grep -cE '^not ok ' "$log" | head -1)
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	p=$((p - s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "FAILED (exit $rc, no test reported failing): $name"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" != 0 ]; then
		echo "---- $name"
		grep -vE '^ok ' "$log" | head -60
	fi
	printf '%-60s %3d passed %3d failed\n' "$name" "$p" "$f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
