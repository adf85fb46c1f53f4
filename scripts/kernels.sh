#!/bin/bash
# Locates the kernels splkmem is built and tested against; sourced by the
# other scripts.
#
#   stock_headers 6.1|6.12|6.12-rt -> header tree (KDIR) of Debian's stock
#                                     kernel (6.12-rt: its PREEMPT_RT flavour)
#   stock_image 6.1|6.12|6.12-rt   -> its vmlinuz, unpacked into the cache
#                                     from Debian's unsigned image package
#   stock_release 6.1|6.12|6.12-rt -> its release string (uname -r)

cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}

stock_release() {
	local d
	case "$1" in
	6.1)  d=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1) ;;
	6.12) d=$(ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null | sort -V | tail -1) ;;
	6.12-rt) d=$(ls -d /usr/src/linux-headers-6.12.*+deb12-rt-amd64 2>/dev/null | sort -V | tail -1) ;;
	*) echo "unknown kernel '$1' (6.1, 6.12 or 6.12-rt)" >&2; return 1 ;;
	esac
	[ -n "$d" ] || { echo "no headers for $1 (run scripts/deps.sh)" >&2; return 1; }
	basename "$d" | sed 's/^linux-headers-//'
}

stock_headers() {
	local rel
	rel=$(stock_release "$1") || return 1
	echo "/usr/src/linux-headers-$rel"
}

stock_image() {
	local rel dir pkg
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
