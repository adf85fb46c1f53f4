#!/bin/bash
# Build a debug test kernel from Debian's kernel source and the fragments
# in scripts/kernel/, cached outside the repository:
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
# A second argument picks the source: 6.12 (the default) is Debian 12's
# linux-source-6.12 (scripts/deps.sh installs it); 7 or 7.N is Debian
# sid's linux-source of its newest 7.x kernel (scripts/debian-root.sh
# source: the same series as the stock 7.x kernel of make run), e.g.
# "build-test-kernel.sh debug 7.2".  Both are built with this machine's
# gcc (Debian 12's gcc-12; Linux 7.2 wants gcc 8 or newer), so modules
# for the test kernel build here as well, not in sid's root.
#
# The cache key is the fragments' hash plus the Debian source package
# version, so a second run with neither changed does nothing.  Prints the
# kernel tree (usable as KDIR) on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
flavour=${1:-}
[ "$flavour" = debug ] && flavour=
series=${2:-6.12}
fragments=("$here/kernel/test-kernel.config")
prefix=test-kernel
case "$series" in
6.12)
	tarball=/usr/src/linux-source-6.12.tar.xz
	[ -f "$tarball" ] || { echo "missing $tarball (run scripts/deps.sh)" >&2; exit 1; }
	src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12) ;;
7 | 7.[0-9] | 7.[0-9][0-9])
	tarball=$("$here/debian-root.sh" source "$series")
	src_version=$(cat "$(dirname "$tarball")/version")
	# The 6.12 kernels keep their names (and cache keys).
	prefix=$prefix-$(basename "$tarball" .tar.xz | sed 's/^linux-source-//') ;;
*) echo "build-test-kernel: source series '$series': want 6.12, 7 or 7.N" >&2; exit 1 ;;
esac
if [ -n "$flavour" ]; then
	fragments+=("$here/kernel/test-kernel-$flavour.config")
	prefix=$prefix-$flavour
fi
cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
key=$( { cat "${fragments[@]}"; echo "$src_version"; } | sha256sum | cut -c1-16)
tree=$cache_root/$prefix-$key/linux

if [ -f "$tree/.splkmem-complete" ]; then
	echo "test kernel: cached ($tree)" >&2
	echo "$tree"
	exit 0
fi

srcdir=$(basename "$tarball" .tar.xz)
echo "test kernel: building $srcdir $src_version (key $key)" >&2
t0=$SECONDS
rm -rf "$cache_root/$prefix-$key"
mkdir -p "$cache_root/$prefix-$key"
tar xf "$tarball" -C "$cache_root/$prefix-$key"
mv "$cache_root/$prefix-$key/$srcdir" "$tree"

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
echo "test kernel: $srcdir $src_version built in $((SECONDS - t0)) s" >&2
# Older keys of this flavour (another fragment or source version) are dead
# weight: ~2 GB each.  Other flavours stay.
for old in "$cache_root/$prefix"-*; do
	name=$(basename "$old")
	[ "$name" = "$prefix-$key" ] && continue
	# test-kernel-<16 hex digits> only, not test-kernel-kcsan-<key>
	# nor test-kernel-7.2-<key>.
	[[ "$name" =~ ^${prefix//./\\.}-[0-9a-f]{16}$ ]] && rm -rf "$old"
done
echo "$tree"
