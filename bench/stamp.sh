#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/stamp.sh CMD [ARG...]: runs CMD with its stdout and stderr merged,
# each line prefixed with the seconds since the start ("12.345 line"),
# after a first line "0.000 @start". Exits with CMD's status. `make bench`
# times the tests of `make run_tests` with it.
t0=${EPOCHREALTIME/./}
echo "0.000 @start"
"$@" 2>&1 | while IFS= read -r line; do
	t=$((${EPOCHREALTIME/./} - t0))
	printf '%d.%03d %s\n' $((t / 1000000)) $((t % 1000000 / 1000)) "$line"
done
exit "${PIPESTATUS[0]}"
