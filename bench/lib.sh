# bench/lib.sh: shell the benchmark scripts share; sourced, not run.
# shellcheck shell=bash

# A TCP port nobody listens on, below the usual ephemeral range so that
# no client connection of this run holds it.  A server that still loses
# the race fails to start and says so.
free_port() {
	local p i
	for i in $(seq 100); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "bench/${0##*/}: no free port found" >&2
	return 1
}
