#!/bin/bash
# Debian kernels that Debian 12 cannot build for with its own tools, for
# building and booting splkmem on them from a Debian 12 machine: sid's
# newest Linux 7.x, and Debian 11's 5.10.  Sid's kernel headers were built
# with gcc-16 and their kbuild tools need sid's libc (bullseye's: gcc-10),
# so the build runs in a root of that suite (mmdebstrap, chroot:
# in-root.sh); the kernel boots in QEMU like Debian 12's.
#
#   debian-root.sh release SERIES  the newest linux-headers-SERIES.* the
#                                  suite has (SERIES: 7 or 7.N, sid's;
#                                  5.10, bullseye's)
#   debian-root.sh root SERIES     the root with those headers, made once
#   debian-root.sh image SERIES    that kernel's vmlinuz, unpacked once
#   debian-root.sh source SERIES   that kernel's source tarball (from
#                                  linux-source-MAJOR.MINOR of the same
#                                  suite), unpacked from its .deb once:
#                                  build-test-kernel.sh builds a test
#                                  kernel of it
#
# Everything is cached under ${SPLKMEM_CACHE:-~/.cache/splkmem}: SUITE-apt/
# (an apt configuration of our own: sources list, lists, archives), and
# per release SUITE-root-REL/ and stock-REL/vmlinuz, per source package
# version SUITE-source-VERSION/linux-source-MAJOR.MINOR.tar.xz.  The machine's own apt
# setup is never read for packages or changed: only its Debian mirror's
# URI is taken from /etc/apt/sources.list{,.d}.  Sid's Release file is
# past its Valid-Until date, hence Check-Valid-Until=false; the source is
# [trusted=yes] because the machine has no keyring for sid.
#
# Callers take turns (a lock in SUITE-apt/), so concurrent ones wait for
# the first to make the root rather than make it twice.
#
# The lists are fetched again when they are more than a day old
# (SPLKMEM_ROOT_REFRESH=1: now), so a newer kernel is picked up as it
# comes.  Each step that does work says how long it took on standard error
# and in SUITE-apt/times.log.
set -euo pipefail

cmd=${1:?usage: debian-root.sh release|root|image|source SERIES}
series=${2:?usage: debian-root.sh release|root|image|source SERIES}
# Per series: the suite, the headers' release pattern (after the series),
# the compilers those headers were built with.
case "$series" in
7 | 7.[0-9] | 7.[0-9][0-9])
	suite=sid rel_pat='\.[0-9]+(\.[0-9]+)?\+deb[0-9]+-amd64' cc_pkgs=gcc-16,g++-16 ;;
5.10)
	suite=bullseye rel_pat='\.[0-9]+-[0-9]+-amd64' cc_pkgs=gcc-10,g++-10 ;;
*) echo "debian-root: series '$series': want 7, 7.N or 5.10" >&2; exit 1 ;;
esac

cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
aptdir=$cache_root/$suite-apt
# What the root holds: the build tools, and dkms for the DKMS step (dkms
# build inside the root).
root_packages=make,$cc_pkgs,kmod,bc,libelf-dev,dkms

log_time() {  # step, start second
	local msg
	msg="$(date -u +%FT%TZ) $1: $((SECONDS - $2)) s"
	echo "debian-root: $msg" >&2
	echo "$msg" >> "$aptdir/times.log"
}

# The machine's Debian mirror: the URI that serves bookworm, from a
# one-line sources.list or a deb822 .sources file.
debian_mirror() {
	local uri
	uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) break;
			if ($(i + 1) == "bookworm") { print $i; exit } }')
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk 'BEGIN { RS = ""; FS = "\n" }
			/(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
				for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) {
					split($i, f, /[ \t]+/); print f[2]; exit } }')
	fi
	[ -n "$uri" ] || { echo "debian-root: no bookworm mirror in /etc/apt/sources.list{,.d}" >&2; return 1; }
	echo "${uri%/}"
}

apt_opts() {
	echo -o Dir::Etc::sourcelist="$aptdir/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::lists="$aptdir/lists" \
		-o Dir::Cache="$aptdir/cache" \
		-o Acquire::Check-Valid-Until=false \
		-o APT::Get::List-Cleanup=false \
		-o APT::Sandbox::User=root
}

suite_lists() {
	local mirror t0
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	mirror=$(debian_mirror)
	echo "deb [trusted=yes] $mirror $suite main" > "$aptdir/sources.list.new"
	if ! cmp -s "$aptdir/sources.list.new" "$aptdir/sources.list"; then
		mv "$aptdir/sources.list.new" "$aptdir/sources.list"
		rm -f "$aptdir/lists/"*Packages* "$aptdir/lists/"*Release*
	fi
	rm -f "$aptdir/sources.list.new"
	if [ "${SPLKMEM_ROOT_REFRESH:-0}" = 1 ] ||
	   [ -z "$(find "$aptdir/lists" -maxdepth 1 -name "*_${suite}_main_*Packages*" -mtime -1 | head -1)" ]; then
		t0=$SECONDS
		# shellcheck disable=SC2046
		if ! apt-get $(apt_opts) update -qq >&2; then
			# Old lists still name a kernel whose root may be cached.
			[ -n "$(find "$aptdir/lists" -maxdepth 1 -name "*_${suite}_main_*Packages*" | head -1)" ] ||
				{ echo "debian-root: apt-get update of $suite failed" >&2; return 1; }
			echo "debian-root: apt-get update of $suite failed; using the lists of $(date -ur \
				"$(ls "$aptdir"/lists/*_"${suite}"_main_*Packages* | head -1)" +%F)" >&2
			return 0
		fi
		log_time "apt lists of $suite" "$t0"
	fi
}

newest_release() {
	local pat pkg
	pat=${series//./\\.}
	# shellcheck disable=SC2046
	pkg=$(apt-cache $(apt_opts) search --names-only "^linux-headers-$pat\\." |
		awk '{print $1}' | grep -E "^linux-headers-$pat$rel_pat\$" | sort -V | tail -1)
	[ -n "$pkg" ] || { echo "debian-root: $suite has no linux-headers-$series.*-amd64" >&2; return 1; }
	echo "${pkg#linux-headers-}"
}

make_root() {  # release
	local rel=$1 dir=$cache_root/$suite-root-$1 t0
	if [ ! -e "$dir/.splkmem-complete" ]; then
		rm -rf "$dir" "$dir.tmp"
		t0=$SECONDS
		mmdebstrap --quiet --variant=minbase \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--include="$root_packages,linux-headers-$rel" \
			"$suite" "$dir.tmp" "$(cat "$aptdir/sources.list")" >&2 ||
			{ echo "debian-root: mmdebstrap of $suite failed" >&2; rm -rf "$dir.tmp"; return 1; }
		[ -d "$dir.tmp/usr/src/linux-headers-$rel" ] ||
			{ echo "debian-root: no headers in the root" >&2; return 1; }
		touch "$dir.tmp/.splkmem-complete"
		mv "$dir.tmp" "$dir"
		log_time "$suite root for $rel (mmdebstrap)" "$t0"
	fi
	echo "$dir"
}

# The stock kernel image, as kernels.sh's stock_image does for Debian 12:
# linux-image-REL (or its -unsigned flavour) holds boot/vmlinuz-REL, or,
# in sid, depends on the linux-binary-REL package that holds it (as
# usr/lib/modules/REL/vmlinuz, signed for Secure Boot: QEMU boots it as
# it is).
get_image() {  # release
	local rel=$1 dir=$cache_root/stock-$1 pkg t0 deb
	if [ ! -f "$dir/vmlinuz" ]; then
		t0=$SECONDS
		rm -rf "$dir/pkg" "$dir/root"
		mkdir -p "$dir/pkg"
		for pkg in "linux-image-$rel-unsigned" "linux-image-$rel"; do
			# shellcheck disable=SC2046
			apt-cache $(apt_opts) show "$pkg" > /dev/null 2>&1 && break
		done
		# shellcheck disable=SC2046
		(cd "$dir/pkg" && apt-get $(apt_opts) download -qq "$pkg" >&2) || return 1
		deb=$(ls "$dir"/pkg/*.deb)
		# grep reads it all: -q would end the pipe early (pipefail).
		if ! dpkg-deb -c "$deb" | grep -E "(boot/vmlinuz-$rel|modules/$rel/vmlinuz)\$" > /dev/null; then
			# shellcheck disable=SC2046
			pkg=$(apt-cache $(apt_opts) depends "$pkg" |
				sed -n "s/^ *Depends: \(linux-binary-[^ ]*\).*/\1/p" | head -1)
			[ -n "$pkg" ] || { echo "debian-root: no vmlinuz in linux-image-$rel" >&2; return 1; }
			rm -f "$dir"/pkg/*.deb
			# shellcheck disable=SC2046
			(cd "$dir/pkg" && apt-get $(apt_opts) download -qq "$pkg" >&2) || return 1
		fi
		dpkg-deb -x "$dir"/pkg/*.deb "$dir/root"
		cp "$(ls "$dir/root/boot/vmlinuz-$rel" "$dir/root/usr/lib/modules/$rel/vmlinuz" \
			2> /dev/null | head -1)" "$dir/vmlinuz"
		rm -rf "$dir/pkg" "$dir/root"
		log_time "vmlinuz of $rel ($pkg)" "$t0"
	fi
	echo "$dir/vmlinuz"
}

# The kernel source of the release's MAJOR.MINOR series, as Debian 12's
# linux-source-6.12 package installs it for build-test-kernel.sh: the .deb
# is downloaded and only its tarball kept (~160 MB for 7.2).
get_source() {  # release
	local rel=$1 mm pkg ver dir t0 deb
	mm=$(echo "$rel" | cut -d. -f1-2)
	pkg=linux-source-$mm
	# shellcheck disable=SC2046
	ver=$(apt-cache $(apt_opts) show "$pkg" 2> /dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
	[ -n "$ver" ] || { echo "debian-root: $suite has no $pkg" >&2; return 1; }
	dir=$cache_root/$suite-source-$ver
	if [ ! -f "$dir/$pkg.tar.xz" ]; then
		t0=$SECONDS
		rm -rf "$dir"
		mkdir -p "$dir/pkg"
		# shellcheck disable=SC2046
		(cd "$dir/pkg" && apt-get $(apt_opts) download -qq "$pkg=$ver" >&2) || return 1
		deb=$(ls "$dir"/pkg/*.deb)
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/pkg" "./usr/src/$pkg.tar.xz"
		mv "$dir/pkg/usr/src/$pkg.tar.xz" "$dir/$pkg.tar.xz.tmp"
		echo "$ver" > "$dir/version"
		mv "$dir/$pkg.tar.xz.tmp" "$dir/$pkg.tar.xz"
		rm -rf "$dir/pkg"
		log_time "$pkg $ver" "$t0"
	fi
	echo "$dir/$pkg.tar.xz"
}

mkdir -p "$aptdir"
# One at a time: make check starts the roots in the background while other
# steps may ask for them; a second caller waits, then finds it made.
exec 9> "$aptdir/lock"
flock 9
suite_lists
rel=$(newest_release)
case "$cmd" in
release) echo "$rel" ;;
root) make_root "$rel" ;;
image) get_image "$rel" ;;
source) get_source "$rel" ;;
*) echo "debian-root: unknown command '$cmd'" >&2; exit 1 ;;
esac
