#!/bin/bash
# Prove the C++ subset check fails when it should: build each fixture of
# tests/cxx-subset/ into a copy of the module (as one more C++ object) and
# expect the build to fail with the fixture's error.
#
# usage: test-cxx-subset.sh KDIR
set -uo pipefail

kdir=$1
top=$(cd "$(dirname "$0")/.." && pwd)
status=0

check_fixture() {
	local fixture=$1 expected=$2
	local out=$top/build/cxx-subset-$fixture
	rm -rf "$out"
	mkdir -p "$out"
	rsync -a --exclude .git --exclude-from="$top/.gitignore" "$top/" "$out/"
	cp "$top/tests/cxx-subset/$fixture.cpp" "$out/module/core/"
	sed -i "s|^splkmem-cxx-objs := \\\\|splkmem-cxx-objs := module/core/$fixture.o \\\\|" "$out/Kbuild"
	if make -C "$out" KDIR="$kdir" modules > "$out/build.log" 2>&1; then
		echo "test-cxx-subset: $fixture.cpp was accepted" >&2
		return 1
	fi
	if ! grep -q "$expected" "$out/build.log"; then
		echo "test-cxx-subset: $fixture.cpp failed without '$expected':" >&2
		tail -20 "$out/build.log" >&2
		return 1
	fi
	echo "test-cxx-subset: $fixture.cpp rejected: $(grep -m1 "$expected" "$out/build.log")" >&2
}

check_fixture static_ctor "C++ static constructors" || status=1
check_fixture virtual_dtor "references the C++ runtime" || status=1
exit $status
