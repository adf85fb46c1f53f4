#!/bin/bash
# Install what building and testing splkmem needs on Debian 12, with apt.
# Idempotent: does nothing when everything is present.  The 6.12 headers
# are the newest Debian 12 offers (looked up, not hard-coded).
set -euo pipefail

packages=(build-essential bc bison flex libelf-dev libssl-dev dwarves
	  python3 rsync kmod cpio busybox-static qemu-system-x86 dkms
	  clang-format xz-utils zstd linux-source-6.12 linux-headers-amd64
	  gnuplot-nox
	  autoconf automake libtool gawk
	  zlib1g-dev uuid-dev libblkid-dev libtirpc-dev
	  mmdebstrap
	  debhelper dh-dkms fakeroot lintian)
# The third and fourth lines from the end: OpenZFS's build
# (scripts/build-openzfs.sh), the kernel modules and the zpool and zfs
# tools (make zfs-test).  The line after them: the Debian roots that sid's
# 7.x and 11's 5.10 are built in (debian-root.sh).  The last: the
# splkmem-dkms package of make check's DKMS step (build-deb.sh
# --splkmem-only); make deb installs OpenZFS's build dependencies itself.

need_update=0
[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)" ] || need_update=1

newest_612() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{print $1}' | sort -V | tail -1
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if [ "$need_update" = 1 ] || [ "${#missing[@]}" -gt 0 ] || [ -z "$(newest_612)" ]; then
	apt-get update -qq
fi
hdr612=$(newest_612)
[ -n "$hdr612" ] || { echo "deps: no linux-headers-6.12.*+deb12-amd64 package" >&2; exit 1; }
dpkg-query -W -f='${Status}' "$hdr612" 2>/dev/null | grep -q "install ok installed" ||
	missing+=("$hdr612")
# The PREEMPT_RT flavour of the same kernel: make check builds against it.
hdr612rt=${hdr612%-amd64}-rt-amd64
dpkg-query -W -f='${Status}' "$hdr612rt" 2>/dev/null | grep -q "install ok installed" ||
	missing+=("$hdr612rt")

if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" > /tmp/splkmem-apt.log 2>&1 ||
		{ cat /tmp/splkmem-apt.log >&2; exit 1; }
fi
