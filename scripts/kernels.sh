#!/bin/bash
# Locates the kernels splkmem is built and tested against; sourced by the
# other scripts.  KERNEL is 6.1, 6.12 or 6.12-rt (Debian 12's stock
# kernels, headers installed by deps.sh), 7 or 7.N (Debian sid's newest
# 7.x, or 7.N.*, kernel) or 5.10 (Debian 11's): those two have their
# headers in a build root of their suite (scripts/debian-root.sh: the
# build runs there with chroot, in-root.sh).
#
#   stock_headers KERNEL -> header tree (KDIR) of Debian's stock kernel
#                           (6.12-rt: its PREEMPT_RT flavour); for 7.x, its
#                           path inside the build root
#   stock_image KERNEL   -> its vmlinuz, unpacked into the cache from
#                           Debian's image package
#   stock_release KERNEL -> its release string (uname -r)
#   stock_root KERNEL    -> the build root to build in with chroot, or
#                           nothing: build on this machine

cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}

in_root() {  # KERNEL: built in a root of its suite (debian-root.sh)?
	case "$1" in 7 | 7.[0-9] | 7.[0-9][0-9] | 5.10) return 0 ;; esac
	return 1
}

stock_release() {
	local d
	in_root "$1" && { "$(dirname "${BASH_SOURCE[0]}")/debian-root.sh" release "$1"; return; }
	case "$1" in
	6.1)  d=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1) ;;
	6.12) d=$(ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null | sort -V | tail -1) ;;
	6.12-rt) d=$(ls -d /usr/src/linux-headers-6.12.*+deb12-rt-amd64 2>/dev/null | sort -V | tail -1) ;;
	*) echo "unknown kernel '$1' (6.1, 6.12, 6.12-rt, 7 or 7.N: sid's 7.x, 5.10)" >&2; return 1 ;;
	esac
	[ -n "$d" ] || { echo "no headers for $1 (run scripts/deps.sh)" >&2; return 1; }
	basename "$d" | sed 's/^linux-headers-//'
}

stock_headers() {
	local rel
	rel=$(stock_release "$1") || return 1
	echo "/usr/src/linux-headers-$rel"
}

stock_root() {
	in_root "$1" || return 0
	"$(dirname "${BASH_SOURCE[0]}")/debian-root.sh" root "$1"
}

stock_image() {
	local rel dir pkg
	in_root "$1" && { "$(dirname "${BASH_SOURCE[0]}")/debian-root.sh" image "$1"; return; }
	rel=$(stock_release "$1") || return 1
	dir=$cache_root/stock-$rel
	if [ ! -f "$dir/vmlinuz" ]; then
		mkdir -p "$dir/pkg"
		pkg=linux-image-$rel-unsigned
		apt-cache show "$pkg" >/dev/null 2>&1 || pkg=linux-image-$rel
		(cd "$dir/pkg" && apt-get download -qq "$pkg" >&2) || return 1
		dpkg-deb -x "$dir"/pkg/*.deb "$dir/root"
		cp "$dir/root/boot/vmlinuz-$rel" "$dir/vmlinuz"
		rm -rf "$dir/pkg" "$dir/root"
	fi
	echo "$dir/vmlinuz"
}
