#!/bin/bash
# make lint: the kernel's checkpatch.pl on every C file and header,
# clang-format (.clang-format) on every C++ file, the core's include layers
# (scripts/check-layers.py) and one version; all must be clean.
#
# checkpatch runs in its default mode with five message types ignored, each
# for a reason of this out-of-tree, two-language module:
#   EXPORT_SYMBOL        the exported functions are defined in C++, the
#                        exports sit in the C glue (splkmem_main.c)
#   CONSTANT_COMPARISON  static_asserts compare OpenZFS's generated
#                        constants with ours (taskq_services.c)
#   COMPLEX_MACRO        SPLK_PARAM declares a parameter (several
#                        definitions), it is not an expression
#   NEW_TYPEDEFS         SPL's API is typedefs (spl_kmem_cache_t, ...)
#   PREFER_DEFINED_ATTRIBUTE_MACRO  seam.h is also read by C++, which has
#                        no __printf
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${SPLKMEM_CACHE:-$HOME/.cache/splkmem}
tools=$cache_root/checkpatch
cd "$top"

if [ ! -x "$tools/scripts/checkpatch.pl" ]; then
	mkdir -p "$tools"
	tar xf /usr/src/linux-source-6.12.tar.xz -C "$tools" --strip-components=1 \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
fi

status=0
c_files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
# shellcheck disable=SC2086
report=$("$tools/scripts/checkpatch.pl" --no-tree --quiet --terse --show-types \
	--ignore EXPORT_SYMBOL,CONSTANT_COMPARISON,COMPLEX_MACRO,NEW_TYPEDEFS,PREFER_DEFINED_ATTRIBUTE_MACRO \
	-f $c_files) || status=1
echo "$report" | grep -v '^total: 0 errors, 0 warnings' >&2 || true
[ "$status" = 0 ] || echo "lint: checkpatch found problems" >&2

cxx_files=$(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp')
for f in $cxx_files; do
	if ! clang-format --style=file "$f" | diff -u "$f" - >&2; then
		echo "lint: $f is not clang-formatted (clang-format -i $f)" >&2
		status=1
	fi
done
# The core's include graph follows its layer diagram.
if ! python3 scripts/check-layers.py >&2; then
	echo "lint: an include in module/core reaches up a layer (scripts/check-layers.py)" >&2
	status=1
fi
# One version: module/version.h, and dkms.conf's PACKAGE_VERSION by the
# same number.
version=$(sed -n 's/^#define SPLKMEM_VERSION "\(.*\)"$/\1/p' module/version.h)
dkms_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
if [ -z "$version" ] || [ "$version" != "$dkms_version" ]; then
	echo "lint: module/version.h says '$version', dkms.conf '$dkms_version'" >&2
	status=1
fi
[ "$status" = 0 ] && echo "lint: checkpatch, clang-format, layers and version clean" >&2
exit $status
