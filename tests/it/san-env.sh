# Sourced by tests/run (unit and host tests) and tests/it/lib.sh (the VM).
# A sanitizer report is a crash, never an ordinary failure: ASan and UBSan
# exit 1 by default, the code many checks expect for a refusal. With these
# a report aborts (exit 134), which no check accepts (git's test-lib.sh
# does the same). Options already set are kept after ours.
export ASAN_OPTIONS="abort_on_error=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
