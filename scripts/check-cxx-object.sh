#!/bin/sh
# Enforce the freestanding C++ subset on one compiled object: no static
# constructors or destructors (nothing runs them in a kernel module) and no
# reference to the C++ runtime (exceptions, RTTI, guards, operator new).
#
# usage: check-cxx-object.sh NM READELF OBJECT
nm=$1
readelf=$2
obj=$3
status=0

sections=$($readelf -SW "$obj" | grep -oE '\.(init_array|fini_array|ctors|dtors)[^ ]*' | sort -u)
if [ -n "$sections" ]; then
	echo "error: $obj: static constructor/destructor sections:" $sections >&2
	status=1
fi

runtime=$($nm -u "$obj" | awk '{print $NF}' |
	grep -E '^(__cxa_|_Unwind_|__gxx_personality|_ZTI|_ZTS|_ZTV|_Znw|_Zna|_Zdl|_Zda|__dso_handle|_ZSt)' || true)
if [ -n "$runtime" ]; then
	echo "error: $obj: references the C++ runtime:" $runtime >&2
	status=1
fi
exit $status
