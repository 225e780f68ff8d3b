#!/bin/bash
# Build and test dependencies of spte-inspect, all Debian 12 packages.
set -eu
# Building: the compiler, meson, the libraries linked, scdoc for the man page.
build=(gcc libc6-dev meson ninja-build pkg-config
	libkdumpfile-dev libbpf-dev libelf-dev libcapstone-dev libncurses-dev scdoc)
# Testing: the Python test drivers and the JSON Schema validator, tmux (the
# browser test), the shells of the completion test, groff (man page), strace
# (read-only test), clang and its runtime (ASan and libFuzzer builds), and
# makedumpfile with the compression libraries (the compression test).
test=(python3 python3-jsonschema tmux bash-completion zsh fish groff-base strace
	clang libclang-rt-14-dev makedumpfile zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev)
pkgs=("${build[@]}" "${test[@]}")
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
