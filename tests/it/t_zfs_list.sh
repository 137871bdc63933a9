# zkeep's listing parser against real zfs output: what the library parses
# and prints back must equal, byte for byte, what zfs printed.
. ./lib.sh

pool_create zkl
log_must zfs create zkl/a
log_must zfs create zkl/a/b
log_must zfs create "zkl/with space"
log_must zfs create -V 8M zkl/vol
log_must zfs create zkl/a/b/c.d:e-f_g
dd if=/dev/urandom of=/zkl/a/f bs=64k count=8 status=none
for i in 1 2 3; do log_must zfs snapshot -r "zkl@autosnap_2026-01-2${i}_00:15:00_daily"; done
log_must zfs snapshot "zkl/with space@manual one"
log_must zfs bookmark zkl/a@autosnap_2026-01-22_00:15:00_daily zkl/a#base

cols=name,type,guid,createtxg,creation,used,available,referenced
[ "$FLAVOUR" != 2.1 ] && cols=$cols,snapshots_changed
raw=$(zfs list -Hp -t filesystem,volume,snapshot,bookmark -o $cols -s createtxg -r zkl)
ours=$(log_must $TT list -r zkl)
assert_eq "$ours" "$raw" "parsed listing"
n=$(wc -l <<<"$raw")
[ "$n" -ge 20 ] || log_fail "expected at least 20 objects, got $n"

# only snapshots of two datasets, not recursive
raw=$(zfs list -Hp -t snapshot -o $cols -s createtxg zkl/a "zkl/with space")
assert_eq "$(log_must $TT list -t snapshot zkl/a "zkl/with space")" "$raw" "snapshot listing"

# over ssh, as the unprivileged backup user
assert_eq "$(log_must $TT list --ssh zkb@localhost -t snapshot zkl/a "zkl/with space")" "$raw" \
	"snapshot listing over ssh"

# pools: allocation moves while txgs sync, so the parsed listing must
# equal one of the raw listings taken just before and just after it
zpool sync
raw1=$(zpool list -Hp -o name,size,allocated,free,fragmentation,capacity,health)
ours=$(log_must $TT zpool-list)
raw2=$(zpool list -Hp -o name,size,allocated,free,fragmentation,capacity,health)
[ "$ours" == "$raw1" ] || assert_eq "$ours" "$raw2" "zpool listing"

# a dataset that does not exist: zfs's own error, named
err=$($TT list zkl/nope 2>&1)
assert_eq $? 1 "exit code for a missing dataset"
assert_contains "$err" "zkl/nope"
assert_contains "$err" "does not exist"
