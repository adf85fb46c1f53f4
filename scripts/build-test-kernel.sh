#!/bin/bash
# Build a debug test kernel from Debian's linux-source-6.12 and the
# fragments in scripts/kernel/, cached outside the repository:
#
#   build-test-kernel.sh         KUnit, KASAN, lockdep, kmemleak, fault
#                                injection (test-kernel.config)
#   build-test-kernel.sh kcsan   the same with KCSAN instead of KASAN (the
#                                two exclude each other): test-kernel.config
#                                then test-kernel-kcsan.config on top
#   build-test-kernel.sh zfs     KASAN without lockdep, for OpenZFS (make
#                                zfs-test-kasan): test-kernel-zfs.config
#                                on top
#
# The cache key is the fragments' hash plus the Debian source package
# version, so a second run with neither changed does nothing.  Prints the
# kernel tree (usable as KDIR) on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
flavour=${1:-}
fragments=("$here/kernel/test-kernel.config")
prefix=test-kernel
if [ -n "$flavour" ]; then
	fragments+=("$here/kernel/test-kernel-$flavour.config")
	prefix=test-kernel-$flavour
fi
cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
tarball=/usr/src/linux-source-6.12.tar.xz

[ -f "$tarball" ] || { echo "missing $tarball (run scripts/deps.sh)" >&2; exit 1; }
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { cat "${fragments[@]}"; echo "$src_version"; } | sha256sum | cut -c1-16)
tree=$cache_root/$prefix-$key/linux

if [ -f "$tree/.splkmem-complete" ]; then
	echo "test kernel: cached ($tree)" >&2
	echo "$tree"
	exit 0
fi

echo "test kernel: building linux-source-6.12 $src_version (key $key)" >&2
rm -rf "$cache_root/$prefix-$key"
mkdir -p "$cache_root/$prefix-$key"
tar xf "$tarball" -C "$cache_root/$prefix-$key"
mv "$cache_root/$prefix-$key/linux-source-6.12" "$tree"

jobs=$(( $(nproc) + 1 ))
cd "$tree"
make -s allnoconfig >&2
scripts/kconfig/merge_config.sh -m .config "${fragments[@]}" >&2
make -s olddefconfig >&2

# Every option the fragments ask for (the last one to name an option wins)
# must survive olddefconfig; a silently dropped one (unmet dependency)
# would make the tests weaker than they say.
missing=0
while read -r line; do
	case "$line" in
	CONFIG_*=y) grep -qx "$line" .config || { echo "not set: $line" >&2; missing=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" .config || { echo "still set: $opt" >&2; missing=1; } ;;
	esac
done < <(cat "${fragments[@]}" | sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/\1 &/p; s/^# \(CONFIG_[A-Z0-9_]*\) is not set/\1 &/p' |
	awk '{opt=$1; $1=""; sub(/^ /, ""); last[opt]=$0; if (!(opt in seen)) {seen[opt]=1; order[++n]=opt}}
	     END {for (i = 1; i <= n; i++) print last[order[i]]}')
[ "$missing" = 0 ] || { echo "test kernel config incomplete" >&2; exit 1; }

make -s -j"$jobs" bzImage >&2
# modules_prepare plus modules: out-of-tree modpost needs Module.symvers.
make -s -j"$jobs" modules >&2
touch .splkmem-complete
# Older keys of this flavour (another fragment or source version) are dead
# weight: ~2 GB each.  Other flavours stay.
for old in "$cache_root/$prefix"-*; do
	name=$(basename "$old")
	[ "$name" = "$prefix-$key" ] && continue
	# test-kernel-<16 hex digits> only, not test-kernel-kcsan-<key>.
	[[ "$name" =~ ^$prefix-[0-9a-f]{16}$ ]] && rm -rf "$old"
done
echo "$tree"
