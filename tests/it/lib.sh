# Helpers for integration tests, in the spirit of OpenZFS's test suite.
# Sourced by each t_*.sh, which runs as root inside the test VM.
set -uo pipefail
ZK=/opt/zkeep/zkeep
TT=/opt/zkeep/zk-test-tool
FLAVOUR=${ZKEEP_FLAVOUR:-unknown}
_pools=()
_cleanups=()

. "$(dirname "${BASH_SOURCE[0]}")/san-env.sh"

log_note() { echo "NOTE: $*"; }
log_fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# Runs the command; the test fails unless it exits 0.
log_must() {
	local out
	out=$("$@" 2>&1) || log_fail "log_must: $* ->"$'\n'"$out"
	[ -n "$out" ] && echo "$out"
	return 0
}
# exit_is_failure RC: a deliberate failure exits 1..125; 126 and 127 (not
# runnable, not found) and > 128 (killed by a signal, an abort) are crashes
# or broken tests, never the refusal a test wants (git's test_must_fail).
exit_is_failure() {
	[ "$1" -ge 1 ] && [ "$1" -le 125 ]
}
# Runs the command; the test fails unless it fails on purpose (see above).
log_mustnot() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || log_fail "log_mustnot: $* succeeded ->"$'\n'"$out"
	exit_is_failure $rc || log_fail "log_mustnot: $* crashed (exit $rc) ->"$'\n'"$out"
	return 0
}
# must_exit RC [--msg TEXT] CMD...: the test fails unless CMD exits with RC
# (and, with --msg, says TEXT on stdout or stderr); RC 0 is allowed.
must_exit() {
	local want=$1 msg="" out rc
	shift
	if [ "$1" = --msg ]; then
		msg=$2
		shift 2
	fi
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -eq "$want" ] || log_fail "must_exit $want: $* exited $rc ->"$'\n'"$out"
	[ -z "$msg" ] || [[ "$out" == *"$msg"* ]] || log_fail "must_exit: $* did not say [$msg] ->"$'\n'"$out"
	return 0
}
# assert_eq GOT WANT [what]
assert_eq() {
	[ "$1" == "$2" ] || log_fail "${3:-value}: got [$1], want [$2]"
}
assert_contains() {
	[[ "$1" == *"$2"* ]] || log_fail "${3:-output} does not contain [$2]: [$1]"
}

# pool_create NAME [SIZE]: a pool on a sparse file, destroyed at exit.
pool_create() {
	local name=$1 size=${2:-256M}
	truncate -s "$size" "/var/tmp/zk-$name.img"
	zpool create -f -O mountpoint="/$name" "$name" "/var/tmp/zk-$name.img" ||
		log_fail "cannot create pool $name"
	_pools+=("$name")
}

on_exit() { _cleanups+=("$*"); }

# pull_job SRC DST NAME [ARG...]: the zkb user may send from SRC (the
# seed's delegation plus bookmark); $st is a state and lock directory with
# a zkeep.conf naming it, removed at exit; PULL is the zkeep pull of SRC
# over ssh to localhost into DST as job NAME, with ARGs.
pull_job() {
	local src=$1 dst=$2 name=$3
	shift 3
	log_must zfs allow zkb mount,send,hold,snapshot,destroy,release,bookmark "$src"
	st=$(mktemp -d)
	on_exit rm -rf "$st"
	printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$st" "$st" >"$st/zkeep.conf"
	PULL=("$ZK" pull --config "$st/zkeep.conf" --host localhost --user zkb
		--destination "$dst" --name "$name" --datasets "$src" "$@")
}
# clock_advance SECONDS: step the VM's wall clock forward, as if that much
# time had passed. The kernel stamps snapshots_changed from this clock and
# zkeep reads time(2) from it, so a test of "older than N seconds" needs
# no idle wait (the VM is thrown away after the run; nothing here syncs
# the clock back).
clock_advance() {
	log_must date -s "@$(($(date +%s) + $1))" >/dev/null
}
# The guids of a dataset's snapshots in history order (none if it is gone).
guids() { zfs list -H -p -o guid -t snapshot -s createtxg "$1" 2>/dev/null; }

_cleanup() {
	local c p
	for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	for p in "${_pools[@]}"; do
		zpool destroy -f "$p" >/dev/null 2>&1 || true
		rm -f "/var/tmp/zk-$p.img"
	done
}
trap _cleanup EXIT
