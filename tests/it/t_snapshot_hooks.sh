# Snapshot hooks (zkeep.conf(5): pre_snapshot, post_snapshot, hook_timeout)
# on real pools, and the zfs processes of the policy jobs counted exactly:
# pre-hooks in config order, ONE zfs snapshot of the datasets whose
# pre-hook passed, post-hooks in reverse order, also after a failed or
# timed-out pre-hook and after a failed snapshot; a failed pre-hook skips
# its dataset (the others go on), counts as failed, exit 1, and is in the
# hooks' state file; the hourly run is one listing of the datasets and
# one snapshot call (OpenZFS >= 2.2: the datasets' snapshots_changed says
# none has a snapshot of this hour, so no snapshot name is listed), and
# the snapshot names are listed for the datasets that changed this hour.
. ./lib.sh

pool_create zkh
for d in a b c d e e/x; do log_must zfs create zkh/$d; done
w=$(mktemp -d)
on_exit rm -rf "$w"
chmod 755 "$w"

# Count zfs processes: a wrapper ahead of the real zfs in zkeep's fixed
# PATH (/usr/local/sbin comes first) logs each call's arguments.
real=$(command -v zfs)
[ -e /usr/local/sbin/zfs ] && log_fail "/usr/local/sbin/zfs exists already"
cat >/usr/local/sbin/zfs <<WRAP
#!/bin/sh
echo "\$*" >>$w/calls
exec $real "\$@"
WRAP
chmod 755 /usr/local/sbin/zfs
on_exit rm -f /usr/local/sbin/zfs
# the test's own zfs calls go to the real one, uncounted
zfs() { "$real" "$@"; }
calls() { : >"$w/calls"; }
ncalls() { wc -l <"$w/calls"; }

log=$w/hooks.log
# hooked_conf FILE PRE [DATASET-SECTION-LINES...]: a config whose policy
# "hooked" has PRE as its pre-hook and the logging post-hook; a, b and c
# are hooked, d and e (discovering e/x) are not
hooked_conf() {
	cat >"$1" <<CONF
[global]
state_dir = $w
[policy hooked]
hourly = 5
daily = 2
pre_snapshot = $2
post_snapshot = sh: echo "post \$ZKEEP_DATASET \$ZKEEP_PRE_RESULT \$ZKEEP_SNAPSHOT_RESULT" >>$log
hook_timeout = 3
[dataset zkh/a]
policy = hooked
[dataset zkh/b]
policy = hooked
${3:-}
[dataset zkh/c]
policy = hooked
${4:-}
[dataset zkh/d]
policy = low
[dataset zkh/e]
policy = low
discover_children = yes
CONF
}
# the listings: the datasets' facts (OpenZFS >= 2.2), the snapshot names
# of some, the whole tree by name (< 2.2, after the first is refused)
DSL="list -Hp -t filesystem,volume -o name,type,guid,createtxg,snapshots_changed -s createtxg -r "
NAMES="list -H -o name -s createtxg -t snapshot -d 1 "
TREE="list -H -o name -s createtxg -t filesystem,volume,snapshot -r "
new22=$([ "$FLAVOUR" = 2.1 ] && echo no || echo yes)
# listings: the listing calls of the last run, one letter each (D the
# datasets' facts, refused before 2.2; N snapshot names; T the tree by
# name; ? other)
listings() {
	grep '^list ' "$w/calls" | while read -r l; do
		case "$l " in
		"$DSL"*) printf D ;; "$NAMES"*) printf N ;; "$TREE"*) printf T ;; *) printf '?' ;;
		esac
	done
}
hooked_conf "$w/zkeep.conf" \
	"sh: echo \"pre \$ZKEEP_DATASET \$ZKEEP_SNAPSHOT \$ZKEEP_INTERVAL\" >>$log" \
	"pre_snapshot = sh: echo \"pre \$ZKEEP_DATASET\" >>$log; echo \"b is not ready\" >&2; exit 3" \
	"pre_snapshot = sh: echo \"pre \$ZKEEP_DATASET\" >>$log; sleep 60; echo \"not reached\" >>$log"
base=$(date -d '2026-03-02 10:00:00' +%s)
n1=autosnap_2026-03-02_10:00:00_hourly
has() { zfs list -H -o name "$1" >/dev/null 2>&1; }

# 1. success, failure, timeout, skipped datasets, order of pre and post
calls
t0=$(date +%s)
out=$(ZKEEP_NOW=$base $ZK snapshot --type hourly --config "$w/zkeep.conf" 2>&1)
rc=$?
t1=$(date +%s)
assert_eq $rc 1 "exit code with a failed and a timed-out pre-hook"
[ $((t1 - t0)) -lt 30 ] || log_fail "the timed-out hook was not killed at 3 s: $((t1 - t0)) s"
pgrep -f 'sleep 60' >/dev/null && log_fail "the timed-out hook's sleep outlived it"
assert_contains "$out" "Summary: 4 created, 0 skipped, 2 failed"
assert_contains "$out" "pre_snapshot hook of zkh/b exited 3: b is not ready"
assert_contains "$out" "pre_snapshot hook of zkh/c timed out after 3 s"
for d in a d e e/x; do has "zkh/$d@$n1" || log_fail "no snapshot of zkh/$d"; done
for d in b c; do has "zkh/$d@$n1" && log_fail "zkh/$d was snapshotted after its pre-hook failed"; done
want="pre zkh/a zkh/a@$n1 hourly
pre zkh/b
pre zkh/c
post zkh/c timeout skipped
post zkh/b exit skipped
post zkh/a ok ok"
assert_eq "$(cat "$log")" "$want" "hook order and environment"
# one listing (no snapshot yet: no names) and ONE snapshot of a, d, e,
# e/x (same txg); hooks run no zfs
if [ $new22 = yes ]; then
	assert_eq "$(listings)" D "listings of a first snapshot run ($(cat "$w/calls"))"
else
	assert_eq "$(listings)" DT "listings of a first snapshot run ($(cat "$w/calls"))"
fi
assert_eq "$(grep -c '^snapshot ' "$w/calls")" 1 "zfs snapshot calls"
assert_eq "$(zfs list -H -p -o createtxg -t snapshot -r zkh | sort -u | wc -l)" 1 "distinct createtxg"
python3 - "$w/snapshot-hooks-hourly.json" <<'PY' || log_fail "hook state file: $(cat "$w/snapshot-hooks-hourly.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["version"] == 1 and s["interval"] == "hourly", s
d = {x["dataset"]: x for x in s["datasets"]}
assert set(d) == {"zkh/a", "zkh/b", "zkh/c"}, d
assert d["zkh/a"] == {"dataset": "zkh/a", "pre_snapshot": "ok", "snapshot": "ok", "post_snapshot": "ok"}, d
assert d["zkh/b"]["pre_snapshot"] == "exit" and d["zkh/b"]["snapshot"] == "skipped", d
assert d["zkh/c"]["pre_snapshot"] == "timeout" and d["zkh/c"]["post_snapshot"] == "ok", d
PY

# 2. a failed snapshot: a's pre-hook takes a's snapshot itself, so the
# atomic call fails; the others are taken one by one and a's post-hook
# is told the snapshot failed
n2=autosnap_2026-03-02_11:00:00_hourly
hooked_conf "$w/failing.conf" \
	"sh: [ \"\$ZKEEP_DATASET\" != zkh/a ] || $real snapshot \"\$ZKEEP_SNAPSHOT\""
: >"$log"
calls
out=$(ZKEEP_NOW=$((base + 3600)) $ZK snapshot --type hourly --config "$w/failing.conf" 2>&1)
assert_eq $? 1 "exit code with a failed snapshot"
assert_contains "$out" "retrying them one by one"
assert_contains "$out" "cannot snapshot 'zkh/a@$n2'"
assert_contains "$out" "Summary: 5 created, 0 skipped, 1 failed"
for d in a b c d e e/x; do has "zkh/$d@$n2" || log_fail "no snapshot zkh/$d@$n2"; done
want="post zkh/c ok ok
post zkh/b ok ok
post zkh/a ok failed"
assert_eq "$(cat "$log")" "$want" "post-hooks after a failed snapshot"
# listing, the atomic call, then one call per dataset
assert_eq "$(grep -c '^snapshot ' "$w/calls")" 7 "zfs snapshot calls after a failed atomic call"

# 3. the hourly run without hooks: exactly 2 zfs processes (one names
# listing under the managed roots, one snapshot); not due: 1
cat >"$w/plain.conf" <<CONF
[global]
state_dir = $w/plain
[dataset zkh/a]
policy = critical
[dataset zkh/b]
policy = high
[dataset zkh/e]
policy = low
discover_children = yes
CONF
mkdir "$w/plain"
calls
out=$(ZKEEP_NOW=$((base + 7200)) log_must $ZK snapshot --type hourly --config "$w/plain.conf")
assert_contains "$out" "Summary: 4 created, 0 skipped, 0 failed"
# ZKEEP_NOW is months before the VM's clock, which stamped the snapshots'
# changes: "changed in this hour or later", so the names are listed
if [ $new22 = yes ]; then
	assert_eq "$(listings)" DN "listings of the hourly run"
	assert_eq "$(head -1 "$w/calls")" "${DSL}zkh/a zkh/b zkh/e" "the datasets' listing"
else
	assert_eq "$(listings)" DT "listings of the hourly run"
fi
assert_eq "$(grep -c '^snapshot ' "$w/calls")" 1 "zfs snapshot calls of the hourly run"
assert_eq "$(ls "$w/plain")" "" "files written by a run without hooks"
calls
ZKEEP_NOW=$((base + 7300)) log_must $ZK snapshot --type hourly --config "$w/plain.conf" >/dev/null
assert_eq "$(ncalls)" 2 "zfs processes of an hourly run with nothing due (the names listed)"
# the seed's name, no hooks configured: the same two calls, the seed's lines
ln -s $ZK "$w/zfs-snapshot"
calls
out=$(ZKEEP_NOW=$((base + 10800)) log_must "$w/zfs-snapshot" --type hourly --config "$w/plain.conf")
assert_contains "$out" "* Summary: 4 created, 0 skipped, 0 failed"
assert_eq "$(ncalls)" 3 "zfs processes of zfs-snapshot"
# an hour later by the VM's own clock (no ZKEEP_NOW): no dataset's
# snapshots changed in this hour, so no name is listed: exactly 2 zfs
# processes where snapshots_changed exists
clock_advance 3600
calls
out=$(log_must $ZK snapshot --type hourly --config "$w/plain.conf")
assert_contains "$out" "Summary: 4 created, 0 skipped, 0 failed"
if [ $new22 = yes ]; then
	assert_eq "$(ncalls)" 2 "zfs processes of the hourly run (names not listed)"
	assert_eq "$(listings)" D "listings of the hourly run, an hour on"
else
	assert_eq "$(ncalls)" 3 "zfs processes of the hourly run on OpenZFS < 2.2"
fi
calls
log_must $ZK snapshot --type hourly --config "$w/plain.conf" >/dev/null
if [ $new22 = yes ]; then
	assert_eq "$(listings)" DN "listings of a second run in that hour"
fi
assert_eq "$(grep -c '^snapshot ' "$w/calls")" 0 "snapshots of a second run in that hour"

# 4. prune: one listing, one holds query of the expired, one destroy per
# dataset; a held snapshot is kept
cat >"$w/prune.conf" <<CONF
[policy five]
hourly = 5
[dataset zkh/a]
policy = five
[dataset zkh/b]
policy = five
[dataset zkh/e]
policy = low
discover_children = yes
CONF
log_must zfs hold keepme "zkh/a@$n1"
on_exit zfs release keepme "zkh/a@$n1"
for i in 4 5 6 7 8 9; do
	ZKEEP_NOW=$((base + i * 3600)) log_must $ZK snapshot -q --type hourly --config "$w/prune.conf" >/dev/null
done
calls
out=$(log_must $ZK prune --config "$w/prune.conf")
assert_contains "$out" "keeping zkh/a@$n1: expired but held"
# five keeps 5 hourly: a has 10 (the oldest held), b 9; low keeps 3 of e's
# and e/x's 10; c (1: its 10:00 pre-hook timed out) and d are not in this config
assert_eq "$(zfs list -H -o name -t snapshot zkh/a | wc -l)" 6 "snapshots of a after prune"
assert_eq "$(zfs list -H -o name -t snapshot zkh/b | wc -l)" 5 "snapshots of b after prune"
assert_eq "$(zfs list -H -o name -t snapshot zkh/e | wc -l)" 3 "snapshots of e after prune"
assert_eq "$(zfs list -H -o name -t snapshot zkh/e/x | wc -l)" 3 "snapshots of e/x after prune"
assert_eq "$(zfs list -H -o name -t snapshot zkh/c | wc -l)" 1 "snapshots of c (not in the config)"
assert_eq "$(grep -c '^list ' "$w/calls")" 1 "listings of a prune"
assert_eq "$(grep -c '^get ' "$w/calls")" 1 "holds queries of a prune"
assert_eq "$(grep -c '^destroy ' "$w/calls")" 4 "destroy calls of a prune (one per dataset)"
assert_eq "$(ncalls)" 6 "zfs processes of a prune"

# 5. a bad hook command line is refused with the config (exit 2)
printf '[dataset zkh/a]\npolicy = low\npre_snapshot = echo "open\n' >"$w/bad.conf"
must_exit 2 --msg "pre_snapshot: hook 'echo \"open' has an unclosed \" quote" \
	$ZK snapshot --type hourly --config "$w/bad.conf"
echo "snapshot hooks: order, failures, timeout, skipped datasets, state file; zfs processes counted"
