#!/bin/sh
# Install the Debian packages keyrite needs to build, test and run its
# demo.  Only missing packages are installed; a second run does nothing.
# Works as root, or through sudo otherwise.
set -eu

PACKAGES="
build-essential pkg-config
libssl-dev openssl
libsodium-dev
libp11-kit-dev
softhsm2 opensc
libyaml-dev
libjansson-dev
libsqlite3-dev sqlite3
libmicrohttpd-dev
libcurl4-openssl-dev curl
libqrencode-dev
libcmocka-dev
bats
valgrind
strace
tmux
gnutls-bin
libnss3-tools
golang-cfssl
chromium fonts-dejavu-core
openjdk-17-jre-headless
certbot lego
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: missing:$missing; run as root or install sudo" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
