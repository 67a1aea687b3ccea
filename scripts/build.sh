#!/usr/bin/env bash
# Builds tollgate: build/ (release, what the demo and benchmarks run) and,
# with --asan, build-asan/ (ASan+UBSan, for the unit tests), with --fuzz,
# build-fuzz/ (clang, libFuzzer targets of test/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

setup() { # dir, extra meson args...
	local dir=$1
	shift
	local log
	log=$(mktemp)
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$log" 2>&1 || { cat "$log"; rm -f "$log"; return 1; }
	fi
	# Quiet when it works, the whole compiler output when it does not.
	ninja -C "$dir" >"$log" 2>&1 || { cat "$log"; rm -f "$log"; return 1; }
	rm -f "$log"
}

setup build
for arg in "$@"; do
	case "$arg" in
	--asan)
		setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined \
			-Dc_args=-fno-sanitize-recover=undefined -Db_lundef=false
		;;
	--fuzz)
		CC=clang setup build-fuzz -Dbuildtype=debug -Dtests=false \
			-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fsanitize=fuzzer-no-link
		;;
	esac
done
