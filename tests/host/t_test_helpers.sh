#!/bin/bash
# The test helpers cannot pass over a crash: a sanitizer report aborts
# (tests/it/san-env.sh), and log_mustnot / must_exit take only a deliberate
# failure (1..125), never a signal death, 126 or 127.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# 1. A UBSan report in a program built as the ASan build is (the Makefile's
# SAN=1 flags) exits 1 without our options and aborts with them.
cat >"$work/ub.c" <<'C'
#include <limits.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	int x = INT_MAX - 1 + argc; /* argc = 1: INT_MAX */
	(void)argv;
	printf("%d\n", x + argc);  /* signed overflow */
	return 0;
}
C
cc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -o "$work/ub" "$work/ub.c" ||
	fail "cannot build the probe"
(unset ASAN_OPTIONS UBSAN_OPTIONS; "$work/ub" >/dev/null 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "without san-env.sh a UBSan report should exit 1 (the trap this guards), got $rc"
(unset ASAN_OPTIONS UBSAN_OPTIONS; . "$top/tests/it/san-env.sh"; "$work/ub" >/dev/null 2>&1)
rc=$?
[ $rc -eq 134 ] || fail "with san-env.sh a UBSan report must abort (134), got $rc"

# 2. The failure helpers, run as a test would (each in its own subshell,
# since log_fail exits).
helper() { # expect(pass|fail) helper-and-args...
	local want=$1
	shift
	(cd "$top/tests/it" && . ./lib.sh && "$@") >/dev/null 2>&1
	local rc=$?
	case $want in
	pass) [ $rc -eq 0 ] || fail "$* should pass, exit $rc" ;;
	fail) [ $rc -ne 0 ] || fail "$* should fail the test" ;;
	esac
}
helper pass log_mustnot sh -c 'exit 1'
helper pass log_mustnot sh -c 'exit 2'
helper fail log_mustnot true
helper fail log_mustnot sh -c 'kill -SEGV $$'
helper fail log_mustnot sh -c 'kill -ABRT $$'
helper fail log_mustnot sh -c 'exit 134'
helper fail log_mustnot sh -c 'exit 127'
helper fail log_mustnot sh -c 'exit 126'
helper fail log_mustnot /nonexistent/command
helper fail log_mustnot "$work/ub"
helper pass must_exit 1 sh -c 'exit 1'
helper pass must_exit 0 true
helper fail must_exit 1 sh -c 'exit 2'
helper fail must_exit 1 "$work/ub"
helper pass must_exit 1 --msg 'no such' sh -c 'echo "no such dataset" >&2; exit 1'
helper fail must_exit 1 --msg 'no such' sh -c 'echo "other" >&2; exit 1'
echo "ok"
