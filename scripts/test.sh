#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (release and
# ASan+UBSan), then runs the unit tests under both builds, --check on every
# shipped config, the pcap integration tests and the namespace end-to-end
# tests. Ends with one "N passed, N failed" line; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh || exit 1
./scripts/build.sh --asan --fuzz || { echo "build failed"; exit 1; }

passed=0
failed=0
failures=()

count_cunit() { # log file: add the CUnit "tests" row to the totals
	local row
	row=$(grep -E '^\s+tests\s' "$1" | tail -1)
	if [ -n "$row" ]; then
		set -- $row
		passed=$((passed + $4))
		failed=$((failed + $5))
	fi
}

count_plain() { # log file: add its final "N passed, N failed" line
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	fi
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo "== unit tests (release and ASan+UBSan builds)"
for dir in build build-asan; do
	for t in "$dir"/test/unit/test_*; do
			[ -f "$t" ] && [ -x "$t" ] || continue
		name="$dir/$(basename "$t")"
		log="$logs/$(echo "$name" | tr / _).log"
		if "$t" >"$log" 2>&1; then
			echo "ok    $name"
		else
			echo "FAIL  $name"
			failures+=("$name")
			tail -40 "$log"
		fi
		count_cunit "$log"
		# An executable that died before its summary counts as one failure.
		grep -qE '^\s+tests\s' "$log" || failed=$((failed + 1))
	done
done

echo "== shipped configs pass --check"
for c in config/*.yaml; do
	if ./build/app/tollgate/tollgate --check -c "$c" >"$logs/check.log" 2>&1; then
		echo "ok    --check $c"
		passed=$((passed + 1))
	else
		echo "FAIL  --check $c"
		cat "$logs/check.log"
		failed=$((failed + 1))
		failures+=("--check $c")
	fi
done

echo "== fuzzing smoke runs (${FUZZ_SECONDS:=20} s each)"
for f in build-fuzz/test/fuzz/fuzz_* build-fuzz/app/tollgatectl/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="$logs/corpus-$name"
	mkdir -p "$corpus"
	[ "$name" = fuzz_config ] && cp config/*.yaml "$corpus/"
	if "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=1024 \
		-artifact_prefix="$logs/" "$corpus" >"$logs/$name.log" 2>&1; then
		echo "ok    $name ($(grep -oE 'stat::number_of_executed_units: [0-9]+|#[0-9]+' "$logs/$name.log" | tail -1) runs)"
		passed=$((passed + 1))
	else
		echo "FAIL  $name"
		tail -30 "$logs/$name.log"
		failed=$((failed + 1))
		failures+=("$name")
	fi
done

for suite in test/integration/shipped_configs.py test/integration/run.py \
	test/integration/filters.py test/integration/nat.py \
	test/integration/nat_pptp.py \
	test/integration/nat_reload.py test/integration/esp_interop.py \
	test/integration/ah_interop.py test/integration/ipsec.py \
	test/integration/bad_input.py test/integration/tollgatectl.py \
	test/integration/ipsec_tel.py test/integration/trace.py \
	test/e2e/run.sh test/e2e/tun.sh test/e2e/reload.sh test/e2e/host.sh \
	test/e2e/filter.sh test/e2e/nat.sh test/e2e/ipsec.sh \
	test/e2e/webserver.sh; do
	[ -f "$suite" ] || continue
	echo "== $suite"
	log="$logs/$(echo "$suite" | tr / _).log"
	case "$suite" in
	*.py) /usr/bin/python3 "$suite" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]} ;;
	*) bash "$suite" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]} ;;
	esac
	count_plain "$log"
	if [ "$rc" -ne 0 ]; then
		failures+=("$suite")
		grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" || failed=$((failed + 1))
	fi
done

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failing: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
