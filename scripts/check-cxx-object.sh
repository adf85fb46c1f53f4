#!/bin/sh
# Enforce the freestanding C++ subset on one compiled object: no static
# constructors or destructors (a module has no C++ runtime to run them) and
# no reference to the C++ runtime (exceptions, RTTI, guards, operator new).
#
# One exception: KASAN/KCSAN make the compiler register instrumented
# globals from a constructor (_sub_I_<prio>_<n>), exactly as for C objects;
# the module loader runs those (CONFIG_CONSTRUCTORS).  They are accepted
# only when SANITIZED is "yes" and nothing else sits in .init_array.
#
# usage: check-cxx-object.sh NM READELF SANITIZED OBJECT
nm=$1
readelf=$2
sanitized=$3
obj=$4
status=0

# C++ dynamic initialisation or destruction of globals, whatever section.
dynamic_init=$($nm "$obj" | awk '{print $NF}' |
	grep -E '^(_GLOBAL__sub_[ID]_|_GLOBAL__I_|_GLOBAL__D_|_Z41__static_initialization_and_destruction)' || true)
if [ -n "$dynamic_init" ]; then
	echo "error: $obj: C++ static constructors/destructors:" $dynamic_init >&2
	status=1
fi

ctor_sections=$($readelf -SW "$obj" | grep -oE '\.(init_array|fini_array|ctors|dtors)[^ ]*' | sort -u)
if [ -n "$ctor_sections" ]; then
	# Functions in the startup/exit text: only sanitizer registration.
	others=$($nm "$obj" | awk '$2 ~ /^[tT]$/ {print $3}' |
		grep -E '^_sub_[ID]_' | grep -vE '^_sub_[ID]_[0-9]+_[0-9]+$' || true)
	if [ "$sanitized" != yes ] || [ -n "$others" ]; then
		echo "error: $obj: static constructor/destructor sections:" $ctor_sections $others >&2
		status=1
	fi
fi

# Our own vtables (_ZTVN7splkmem...) may be defined in another object of
# the core, next to their class's first virtual function; any other vtable
# is the runtime's.  __cxa_pure_virtual, which an abstract class's vtable
# names, is defined by the C glue (kernel_services.c).
runtime=$($nm -u "$obj" | awk '{print $NF}' | grep -v -e '^_ZTVN7splkmem' -e '^__cxa_pure_virtual$' |
	grep -E '^(__cxa_|_Unwind_|__gxx_personality|_ZTI|_ZTS|_ZTV|_Znw|_Zna|_Zdl|_Zda|__dso_handle|_ZSt)' || true)
if [ -n "$runtime" ]; then
	echo "error: $obj: references the C++ runtime:" $runtime >&2
	status=1
fi
exit $status
