#!/bin/sh
# Installs the Debian packages sanet needs; a no-op when they are present.
# tools/deps.sh fuzz also installs clang and its libFuzzer/sanitizer runtime (make fuzz).
set -e
PKGS="build-essential pkg-config libopenmpi-dev openmpi-bin petsc-dev slepc-dev
libscalapack-openmpi-dev libhdf5-openmpi-dev hdf5-tools libopenblas-dev zlib1g-dev
libpng-dev libyaml-dev python3-h5py python3-numpy python3-sklearn python3-scipy valgrind"
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang-14 libclang-rt-14-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
