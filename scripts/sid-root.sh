#!/bin/bash
# Debian sid's newest Linux 7.x, for building and booting splkmem on it
# from a Debian 12 machine.  Sid's kernel headers were built with gcc-16
# and their kbuild tools need sid's libc, so the build runs in a sid root
# (mmdebstrap, chroot); the kernel boots in QEMU like Debian 12's.
#
#   sid-root.sh release [SERIES]  the newest linux-headers-SERIES.* sid has
#                                 (SERIES: 7, the default, or 7.2, ...)
#   sid-root.sh root [SERIES]     the sid root with those headers, made once
#   sid-root.sh image [SERIES]    that kernel's vmlinuz, unpacked once
#
# Everything is cached under ${SPLKMEM_CACHE:-~/.cache/splkmem}: sid-apt/
# (an apt configuration of our own: sources list, lists, archives), and
# per release sid-root-REL/ and stock-REL/vmlinuz.  The machine's own apt
# setup is never read for packages or changed: only its Debian mirror's
# URI is taken from /etc/apt/sources.list{,.d}.  Sid's Release file is
# past its Valid-Until date, hence Check-Valid-Until=false; the source is
# [trusted=yes] because the machine has no keyring for sid.
#
# Callers take turns (a lock in sid-apt/), so concurrent ones wait for the
# first to make the root rather than make it twice.
#
# The lists are fetched again when they are more than a day old
# (SPLKMEM_SID_REFRESH=1: now), so a newer 7.x is picked up as it comes.
# Each step that does work says how long it took on standard error and in
# sid-apt/times.log.
set -euo pipefail

cmd=${1:?usage: sid-root.sh release|root|image [SERIES]}
series=${2:-7}
case "$series" in
7 | 7.[0-9] | 7.[0-9][0-9]) ;;
*) echo "sid-root: series '$series': want 7 or 7.N" >&2; exit 1 ;;
esac

cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
aptdir=$cache_root/sid-apt
# What the root holds: the build tools of the issue, and dkms for the
# DKMS step (dkms build inside the root).
root_packages=make,gcc-16,g++-16,kmod,bc,libelf-dev,dkms

log_time() {  # step, start second
	local msg
	msg="$(date -u +%FT%TZ) $1: $((SECONDS - $2)) s"
	echo "sid-root: $msg" >&2
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
	[ -n "$uri" ] || { echo "sid-root: no bookworm mirror in /etc/apt/sources.list{,.d}" >&2; return 1; }
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

sid_lists() {
	local mirror t0
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	mirror=$(debian_mirror)
	echo "deb [trusted=yes] $mirror sid main" > "$aptdir/sources.list.new"
	if ! cmp -s "$aptdir/sources.list.new" "$aptdir/sources.list"; then
		mv "$aptdir/sources.list.new" "$aptdir/sources.list"
		rm -f "$aptdir/lists/"*Packages* "$aptdir/lists/"*Release*
	fi
	rm -f "$aptdir/sources.list.new"
	if [ "${SPLKMEM_SID_REFRESH:-0}" = 1 ] ||
	   [ -z "$(find "$aptdir/lists" -maxdepth 1 -name '*_sid_main_*Packages*' -mtime -1 | head -1)" ]; then
		t0=$SECONDS
		# shellcheck disable=SC2046
		if ! apt-get $(apt_opts) update -qq >&2; then
			# Old lists still name a kernel whose root may be cached.
			[ -n "$(find "$aptdir/lists" -maxdepth 1 -name '*_sid_main_*Packages*' | head -1)" ] ||
				{ echo "sid-root: apt-get update of sid failed" >&2; return 1; }
			echo "sid-root: apt-get update of sid failed; using the lists of $(date -ur \
				"$(ls "$aptdir"/lists/*_sid_main_*Packages* | head -1)" +%F)" >&2
			return 0
		fi
		log_time "apt lists of sid" "$t0"
	fi
}

newest_release() {
	local pat pkg
	pat=${series//./\\.}
	# shellcheck disable=SC2046
	pkg=$(apt-cache $(apt_opts) search --names-only \
		"^linux-headers-$pat\.[0-9.]*\+deb[0-9]+-amd64\$" |
		awk '{print $1}' | grep -E "^linux-headers-$pat\.[0-9]+(\.[0-9]+)?\+deb[0-9]+-amd64\$" |
		sort -V | tail -1)
	[ -n "$pkg" ] || { echo "sid-root: sid has no linux-headers-$series.*-amd64" >&2; return 1; }
	echo "${pkg#linux-headers-}"
}

make_root() {  # release
	local rel=$1 dir=$cache_root/sid-root-$1 t0
	if [ ! -e "$dir/.splkmem-complete" ]; then
		rm -rf "$dir" "$dir.tmp"
		t0=$SECONDS
		mmdebstrap --quiet --variant=minbase \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--include="$root_packages,linux-headers-$rel" \
			sid "$dir.tmp" "$(cat "$aptdir/sources.list")" >&2 ||
			{ echo "sid-root: mmdebstrap of sid failed" >&2; rm -rf "$dir.tmp"; return 1; }
		[ -d "$dir.tmp/usr/src/linux-headers-$rel" ] ||
			{ echo "sid-root: no headers in the root" >&2; return 1; }
		touch "$dir.tmp/.splkmem-complete"
		mv "$dir.tmp" "$dir"
		log_time "sid root for $rel (mmdebstrap)" "$t0"
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
		if ! dpkg-deb -c "$deb" | grep -Eq "(boot/vmlinuz-$rel|modules/$rel/vmlinuz)\$"; then
			# shellcheck disable=SC2046
			pkg=$(apt-cache $(apt_opts) depends "$pkg" |
				sed -n "s/^ *Depends: \(linux-binary-[^ ]*\).*/\1/p" | head -1)
			[ -n "$pkg" ] || { echo "sid-root: no vmlinuz in linux-image-$rel" >&2; return 1; }
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

mkdir -p "$aptdir"
# One at a time: make check starts the root in the background while other
# steps may ask for it; a second caller waits, then finds it made.
exec 9> "$aptdir/lock"
flock 9
sid_lists
rel=$(newest_release)
case "$cmd" in
release) echo "$rel" ;;
root) make_root "$rel" ;;
image) get_image "$rel" ;;
*) echo "sid-root: unknown command '$cmd'" >&2; exit 1 ;;
esac
