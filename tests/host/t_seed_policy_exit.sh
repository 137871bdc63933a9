# The seed's exit codes of zfs-snapshot and zfs-prune where they depend on
# who runs them, not on ZFS (seed-system.md 1.3, 1.4): not root and no
# --dry-run is "! This script must be run as root (use sudo)" and exit 1
# under the seed names only (zkeep's own names run with ZFS delegation);
# a usage error stays 2; zfs-prune exits 0 when its zfs calls fail (here:
# no zfs on this machine), zkeep prune 1. Runs on this machine, as root
# (for the non-root cases it drops to nobody with setpriv).
. "$(dirname "$0")/lib/common.sh"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root to drop to nobody"; exit 0; }
command -v zfs >/dev/null && { echo "skipped: zfs is installed here"; exit 0; }
chmod 755 "$d"
for n in zfs-snapshot zfs-prune; do
	ln -s "$zk" "$d/$n"
done
printf '[dataset tank/a]\npolicy = low\n' >"$d/zkeep.conf"
chmod 644 "$d/zkeep.conf"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
run() { # want-exit cmd...: prints the output
	local want=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc, want $want: $out"
	printf '%s\n' "$out"
}
root_msg='! This script must be run as root (use sudo)'
for t in "zfs-snapshot --type hourly" zfs-prune; do
	# shellcheck disable=SC2086 # $t is a command and its arguments
	out=$(run 1 nobody $d/$t --config "$d/zkeep.conf")
	[ "$out" = "$root_msg" ] || fail "$t as nobody: $out"
done
# a dry run needs no root: past the check, to the missing zfs
out=$(run 1 nobody "$d/zfs-snapshot" --type hourly --dry-run --config "$d/zkeep.conf")
grep -q "cannot run 'zfs'" <<<"$out" || fail "zfs-snapshot dry run as nobody: $out"
out=$(run 0 nobody "$d/zfs-prune" --dry-run --config "$d/zkeep.conf")
grep -q "cannot run 'zfs'" <<<"$out" || fail "zfs-prune dry run as nobody: $out"
out=$(run 2 nobody "$d/zfs-snapshot" --config "$d/zkeep.conf")
grep -q -- "--type is required" <<<"$out" || fail "zfs-snapshot without --type: $out"
# zkeep's own names: no root check (delegation), zkeep's exit codes
out=$(run 1 nobody "$zk" snapshot --type hourly --config "$d/zkeep.conf")
grep -q "cannot run 'zfs'" <<<"$out" || fail "zkeep snapshot as nobody: $out"
run 1 "$zk" prune --config "$d/zkeep.conf" >/dev/null
# zfs-prune: 0 though nothing could be listed; the failure is said
out=$(run 0 "$d/zfs-prune" --config "$d/zkeep.conf")
grep -q "cannot run 'zfs'" <<<"$out" || fail "zfs-prune without zfs: $out"
echo "seed exit codes: root check under the seed names, zfs-prune exits 0 on failures"
