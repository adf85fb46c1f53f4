#!/bin/bash
# Build the debug test kernel (KUnit, KASAN, lockdep, fault injection) from
# Debian's linux-source-6.12 and the fragment in scripts/kernel/, cached
# outside the repository.  The cache key is the fragment's hash plus the
# Debian source package version, so a second run with neither changed does
# nothing.  Prints the kernel tree (usable as KDIR) on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel/test-kernel.config
cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
tarball=/usr/src/linux-source-6.12.tar.xz

[ -f "$tarball" ] || { echo "missing $tarball (run scripts/deps.sh)" >&2; exit 1; }
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { cat "$fragment"; echo "$src_version"; } | sha256sum | cut -c1-16)
tree=$cache_root/test-kernel-$key/linux

if [ -f "$tree/.splkmem-complete" ]; then
	echo "test kernel: cached ($tree)" >&2
	echo "$tree"
	exit 0
fi

echo "test kernel: building linux-source-6.12 $src_version (key $key)" >&2
rm -rf "$cache_root/test-kernel-$key"
mkdir -p "$cache_root/test-kernel-$key"
tar xf "$tarball" -C "$cache_root/test-kernel-$key"
mv "$cache_root/test-kernel-$key/linux-source-6.12" "$tree"

jobs=$(( $(nproc) + 1 ))
cd "$tree"
make -s allnoconfig >&2
scripts/kconfig/merge_config.sh -m .config "$fragment" >&2
make -s olddefconfig >&2

# Every option the fragment asks for must survive olddefconfig; a silently
# dropped one (unmet dependency) would make the tests weaker than they say.
missing=0
while read -r line; do
	case "$line" in
	CONFIG_*=y) grep -qx "$line" .config || { echo "not set: $line" >&2; missing=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" .config || { echo "still set: $opt" >&2; missing=1; } ;;
	esac
done < "$fragment"
[ "$missing" = 0 ] || { echo "test kernel config incomplete" >&2; exit 1; }

make -s -j"$jobs" bzImage >&2
# modules_prepare plus modules: out-of-tree modpost needs Module.symvers.
make -s -j"$jobs" modules >&2
touch .splkmem-complete
# Older keys (another fragment or source version) are dead weight: ~2 GB each.
find "$cache_root" -maxdepth 1 -name 'test-kernel-*' ! -name "test-kernel-$key" \
	-exec rm -rf {} + 2>/dev/null || true
echo "$tree"
