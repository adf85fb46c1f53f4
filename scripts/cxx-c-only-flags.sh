#!/bin/sh
# Print the flags among "$@" (after the compiler) that the C++ compiler
# rejects as C-only.  Kbuild filters these out of the kernel's own
# KBUILD_CFLAGS to get the C++ flags, so nothing is hand-copied: whatever
# the target kernel compiles C with, C++ gets too, minus what cannot apply.
#
# usage: cxx-c-only-flags.sh CXX FLAGS...
cxx=$1
shift
# The kernel's C dialect (-std=gnu89, gnu11, ...): g++ names gnu89 gnu90
# in its message, which would then not match the flag given; the C++
# subset sets its own -std.
for f; do
	case "$f" in -std=*++*) ;; -std=*) echo "$f" ;; esac
done
echo | LC_ALL=C $cxx -x c++ "$@" -fsyntax-only - 2>&1 |
	sed -n \
	    -e "s/.*command-line option '\([^']*\)' is valid for C.* but not for C++.*/\1/p" \
	    -e "s/.*'-Werror=' argument '\([^']*\)' is not valid for C++.*/\1/p"
