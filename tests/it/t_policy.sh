# zkeep snapshot / prune / report on real pools: one atomic snapshot call,
# due once per period, prune by policy with held snapshots kept, the seed's
# JSON and the cache file, bad config refused, failures isolated.
. ./lib.sh

pool_create zkp
for d in a a/c b none u; do log_must zfs create zkp/$d; done
conf=$(mktemp)
chmod 644 "$conf" # read by zkb below
on_exit rm -f "$conf"
cat >"$conf" <<CONF
[policy tiny]
hourly = 2
daily = 1
[dataset zkp/a]
policy = critical
discover_children = yes
[dataset zkp/b]
policy = tiny
[dataset zkp/none]
policy = none
CONF
snaps() { zfs list -H -o name -t snapshot -r "$1" 2>/dev/null | grep -c "^$1@" || true; }
base=$(date -d '2026-01-21 10:00:00' +%s)

# one call, every due dataset, same txg
out=$(ZKEEP_NOW=$base log_must $ZK snapshot --type hourly --config "$conf")
name=autosnap_2026-01-21_10:00:00_hourly
for d in a a/c b; do
	assert_eq "$(zfs list -H -o name "zkp/$d@$name" 2>&1)" "zkp/$d@$name" "hourly snapshot of $d"
done
assert_eq "$(snaps zkp/none)" 0 "snapshots of a none dataset"
assert_eq "$(snaps zkp/u)" 0 "snapshots of an undeclared dataset"
txgs=$(zfs list -H -p -o createtxg -t snapshot -r zkp | sort -u | wc -l)
assert_eq "$txgs" 1 "distinct createtxg of one snapshot run"

# the same hour again: not due, nothing new, no error
out=$(ZKEEP_NOW=$((base + 1200)) log_must $ZK snapshot --type hourly --config "$conf")
assert_contains "$out" "no hourly snapshots are due"
assert_eq "$(snaps zkp/a)" 1 "snapshots after a second run in the same hour"

# --dry-run changes nothing
ZKEEP_NOW=$((base + 3600)) log_must $ZK snapshot --type hourly --dry-run --config "$conf" >/dev/null
assert_eq "$(snaps zkp/a)" 1 "snapshots after a dry run"

# 39 more hours, plus a daily, a manual and a foreign-prefix snapshot
for i in $(seq 1 39); do
	ZKEEP_NOW=$((base + i * 3600)) log_must $ZK snapshot -q --type hourly --config "$conf" >/dev/null
done
ZKEEP_NOW=$base log_must $ZK snapshot -q --type daily --config "$conf"
log_must zfs snapshot zkp/b@manual
log_must zfs snapshot zkp/b@autosnap_bogus_hourly
assert_eq "$(snaps zkp/a)" 41 "snapshots of a"
# an explicit none: prune destroys its policy snapshots (the seed's none),
# nothing else
log_must zfs snapshot zkp/none@$name
log_must zfs snapshot zkp/none@manual
# hold the oldest hourly of b: prune must keep it
log_must zfs hold keepme zkp/b@$name
on_exit zfs release keepme zkp/b@$name

out=$(log_must $ZK prune --dry-run --config "$conf")
assert_contains "$out" "would destroy zkp/a@$name"
assert_eq "$(snaps zkp/a)" 41 "snapshots of a after a dry-run prune"
out=$(log_must $ZK prune --config "$conf")
assert_contains "$out" "keeping zkp/b@$name: expired but held"
# critical keeps 36 hourly + the daily; tiny keeps 2 hourly + 1 daily, the
# held one, and the two snapshots that are not policy snapshots
assert_eq "$(snaps zkp/a)" 37 "snapshots of a after prune"
assert_eq "$(snaps zkp/a/c)" 37 "snapshots of a/c (discovered) after prune"
assert_eq "$(snaps zkp/b)" 6 "snapshots of b after prune"
assert_eq "$(zfs list -H -o name -t snapshot zkp/none)" zkp/none@manual "snapshots of none after prune"
log_must zfs list zkp/b@manual zkp/b@autosnap_bogus_hourly >/dev/null
newest=autosnap_2026-01-23_01:00:00_hourly
log_must zfs list "zkp/b@$newest" >/dev/null
out=$(log_must $ZK prune --config "$conf")
assert_contains "$out" "nothing to prune"

# report: the seed's JSON shape, and the cache file (atomic, 0644)
json=$(ZKEEP_NOW=$((base + 39 * 3600 + 60)) log_must $ZK report --json --config "$conf")
python3 - "$json" <<'PY' || log_fail "report --json: unexpected content"
import json, sys
r = json.loads(sys.argv[1])
m = {d["dataset"]: d for d in r["managed"]}
u = {d["dataset"]: d for d in r["unmanaged"]}
a = m["zkp/a"]
assert a["policy"] == "critical" and a["counts"]["hourly"] == 36, a
assert a["retention"] == {"hourly": 36, "daily": 30, "monthly": 3, "yearly": 5}, a
assert a["compliance"]["hourly"] == 100 and a["fresh"]["hourly"] is True, a
assert a["compliance"]["daily"] == 3 and a["compliant"]["daily"] is False, a
assert m["zkp/b"]["counts"] == {"hourly": 3, "daily": 1, "monthly": 0, "yearly": 0}, m["zkp/b"]
assert m["zkp/a/c"]["policy"] == "critical"
assert "zkp/u" in u and u["zkp/u"]["total_snapshots"] == 0, u
assert "zkp/none" in m
PY
cache=/var/tmp/zk-report-cache.json
on_exit rm -f $cache
log_must $ZK report --cache-file $cache --config "$conf"
assert_eq "$(stat -c %a $cache)" 644 "cache file mode"
python3 -c "import json,sys; json.load(open('$cache'))" || log_fail "cache file is not JSON"
ls /var/tmp/zk-report-cache.json.tmp.* >/dev/null 2>&1 && log_fail "temporary cache file left"
# a month after the snapshots were really made (their creation times are
# today's, whatever their names say): b has its counts but nothing fresh
out=$(ZKEEP_NOW=$(($(date +%s) + 30 * 86400)) log_must $ZK report --config "$conf")
line=$(grep '^zkp/b  *tiny  *hourly' <<<"$out")
assert_contains "$line" "100% STALE" "report line of zkp/b hourly"

# seed name: the seed's "* " lines
d=$(mktemp -d)
on_exit rm -rf "$d"
ln -s $ZK "$d/zfs-snapshot"
out=$(ZKEEP_NOW=$((base + 86400 * 3)) log_must "$d/zfs-snapshot" --type daily --config "$conf")
assert_contains "$out" "* created zkp/a@autosnap_2026-01-24_10:00:00_daily"
assert_contains "$out" "* Creating daily snapshots: autosnap_2026-01-24_10:00:00_daily"
assert_contains "$out" "* Discovered 1 child datasets at runtime"
# a, a/c and b; none takes no daily
assert_contains "$out" "* Summary: 3 created, 1 skipped, 0 failed"
ln -s $ZK "$d/zfs-prune"
out=$(log_must "$d/zfs-prune" --config "$conf")
assert_contains "$out" "* Starting snapshot pruning"
# tiny keeps one daily: b's first goes
assert_contains "$out" "* Pruning complete: 1 destroyed, "
# zfs-snapshot-report: --json is the seed's bare list of managed datasets
# (debug lines on stderr), the table, and --cache-file prints nothing
ln -s $ZK "$d/zfs-snapshot-report"
json=$("$d/zfs-snapshot-report" --json --debug --config "$conf" 2>/dev/null) ||
	log_fail "zfs-snapshot-report --json --debug failed"
python3 - "$json" <<'PY' || log_fail "zfs-snapshot-report --json: not the seed's bare list"
import json, sys
r = json.loads(sys.argv[1])
assert isinstance(r, list), r
m = {d["dataset"]: d for d in r}
assert set(m) == {"zkp/a", "zkp/a/c", "zkp/b", "zkp/none"}, m
assert m["zkp/none"]["policy"] == "none" and m["zkp/none"]["retention"]["hourly"] == 0, m
PY
out=$(log_must "$d/zfs-snapshot-report" --config "$conf")
assert_contains "$out" "Hourly     Daily   Monthly    Yearly"
assert_contains "$out" "Total: 4 datasets, "
out=$("$d/zfs-snapshot-report" --json --cache-file $cache --config "$conf" 2>/dev/null) ||
	log_fail "zfs-snapshot-report --cache-file failed"
assert_eq "$out" "" "stdout of zfs-snapshot-report --cache-file"
assert_eq "$(stat -c %a $cache)" 644 "cache file mode (seed name)"
python3 -c "import json; assert set(json.load(open('$cache'))) == {'managed', 'unmanaged'}" ||
	log_fail "cache file of zfs-snapshot-report is not {managed, unmanaged}"

# a declared dataset that does not exist: named, the others still done, exit 1
printf '[dataset zkp/gone]\npolicy = high\n' >>"$conf"
out=$(ZKEEP_NOW=$((base + 86400 * 4)) $ZK snapshot --type daily --config "$conf" 2>&1)
assert_eq $? 1 "exit code with a missing dataset"
assert_contains "$out" "cannot snapshot 'zkp/gone': dataset does not exist"
log_must zfs list zkp/a@autosnap_2026-01-25_10:00:00_daily >/dev/null

# a bad config: refused whole (exit 2), nothing snapshotted
bad=$(mktemp)
on_exit rm -f "$bad"
printf '[dataset zkp/a]\npolicy = low\nbogus = 1\n' >"$bad"
before=$(snaps zkp/a)
out=$($ZK snapshot --type hourly --config "$bad" 2>&1)
assert_eq $? 2 "exit code with a bad config"
assert_contains "$out" "$bad:3: unknown key 'bogus' in [dataset zkp/a]"
assert_eq "$(snaps zkp/a)" "$before" "snapshots after a refused config"
$ZK snapshot --type weekly --config "$conf" >/dev/null 2>&1
assert_eq $? 2 "exit code for an unknown interval"

# the atomic call fails for all when one dataset refuses: the others are
# taken one by one. zkb may only snapshot zkp/b.
log_must zfs allow zkb snapshot,mount zkp/b
out=$(ZKEEP_NOW=$((base + 86400 * 5)) su zkb -c "$ZK snapshot --type daily --config $conf" 2>&1)
assert_eq $? 1 "exit code when some datasets refuse"
assert_contains "$out" "retrying them one by one"
assert_contains "$out" "cannot snapshot 'zkp/a@autosnap_2026-01-26_10:00:00_daily'"
log_must zfs list zkp/b@autosnap_2026-01-26_10:00:00_daily >/dev/null

# an unknown policy name (a typo): a warning naming the dataset and the
# value, listed as none, never snapshotted or pruned (the seed destroyed
# every policy snapshot of such a dataset)
printf '[dataset zkp/a]\npolicy = crtical\ndiscover_children = yes\n' >"$bad"
before=$(snaps zkp/a)
out=$(ZKEEP_NOW=$((base + 86400 * 6)) log_must $ZK snapshot --type daily --config "$bad" 2>&1)
assert_contains "$out" "$bad:2: [dataset zkp/a]: unknown policy 'crtical'"
out=$(log_must $ZK prune --config "$bad" 2>&1)
assert_contains "$out" "unknown policy 'crtical'"
assert_eq "$(snaps zkp/a)" "$before" "snapshots of a dataset of unknown policy"
json=$($ZK report --json --config "$bad" 2>/dev/null) || log_fail "report with an unknown policy failed"
python3 - "$json" <<'PY' || log_fail "report --json: an unknown policy is not shown as none"
import json, sys
m = {d["dataset"]: d for d in json.loads(sys.argv[1])["managed"]}
assert m["zkp/a"]["policy"] == "none" and m["zkp/a/c"]["policy"] == "none", m
PY
