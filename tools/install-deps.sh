#!/bin/bash
# Build and test dependencies of spte-inspect, all Debian 12 packages.
set -eu
pkgs=(gcc libc6-dev meson ninja-build pkg-config python3
	libkdumpfile-dev libbpf-dev libelf-dev libdw-dev libcapstone-dev libncurses-dev tmux
	clang libclang-rt-14-dev strace scdoc groff-base bash-completion zsh fish
	makedumpfile zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
