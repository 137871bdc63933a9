# zkeep status on real pools: the table, --json, and its Nagios exit codes:
# 2 for a degraded pool, 1 for a missing snapshot or a failed backup.
. ./lib.sh

pool_create zks
log_must zfs create zks/a
log_must zfs snapshot zks/a@s1
out=$(log_must $ZK status)
assert_contains "$out" "zks"
assert_contains "$out" "ONLINE"
assert_contains "$out" "OpenZFS"
json=$(log_must $ZK status --json)
python3 - "$json" <<'PY' || log_fail "status --json: unexpected content"
import json, sys
d = json.loads(sys.argv[1])
p = [p for p in d["pools"] if p["name"] == "zks"][0]
assert p["health"] == "ONLINE", p
assert p["filesystems"] == 2 and p["snapshots"] == 1, p
assert p["size_bytes"] == p["allocated_bytes"] + p["free_bytes"], p
assert d["openzfs"]["raw_send"] is True
PY

# a degraded mirror: status says so and exits 2 (critical: [attention]
# pool_unhealthy's default)
truncate -s 128M /var/tmp/zk-zkd-a.img /var/tmp/zk-zkd-b.img
on_exit rm -f /var/tmp/zk-zkd-a.img /var/tmp/zk-zkd-b.img
log_must zpool create zkd mirror /var/tmp/zk-zkd-a.img /var/tmp/zk-zkd-b.img
on_exit zpool destroy -f zkd
log_must zpool offline zkd /var/tmp/zk-zkd-b.img
out=$($ZK status)
assert_eq $? 2 "status exit code with a degraded pool"
assert_contains "$out" "DEGRADED"

# policies, backups and locks from the config: exit 0 only when nothing
# needs attention
zpool destroy -f zkd
work=$(mktemp -d /var/tmp/zk-status.XXXXXX)
on_exit rm -rf "$work"
mkdir -p "$work/state" "$work/locks"
cat >"$work/zkeep.conf" <<CONF
[global]
state_dir = $work/state
lock_dir = $work/locks
[policy quick]
hourly = 1
daily = 0
monthly = 0
yearly = 0
[dataset zks/a]
policy = quick
CONF
out=$($ZK status --config "$work/zkeep.conf")
assert_eq $? 1 "status exit code with an hourly snapshot missing"
assert_contains "$out" "LOW"
assert_contains "$out" "needs attention"
log_must $ZK snapshot --type hourly --config "$work/zkeep.conf"
out=$(log_must $ZK status --config "$work/zkeep.conf" --color never)
assert_contains "$out" "zks/a"
assert_contains "$out" " ok"
cat >"$work/state/pull-h1.json" <<'REC'
{"job": "h1", "kind": "pull", "source_host": "zfsbackup@client.example",
 "destination_host": "local", "start": 1795679000, "end": 1795679100, "result": "failed",
 "error": null, "datasets": [{"source": "tank/a", "target": "zks/b/h1/tank/a",
 "result": "failed", "error": "cannot receive: out of space", "bytes": 0,
 "start": 1795679010, "end": 1795679070, "newest": null, "resume_token": null,
 "matched_by_name": false}]}
REC
out=$($ZK status --config "$work/zkeep.conf" --color never)
assert_eq $? 1 "status exit code with a failed backup"
assert_contains "$out" "out of space"
json=$($ZK status --config "$work/zkeep.conf" --json)
python3 - "$json" <<'PY' || log_fail "status --json with policies: unexpected content"
import json, sys
d = json.loads(sys.argv[1])
c = [c for c in d["compliance"] if c["dataset"] == "zks/a"][0]
assert c["policy"] == "quick" and c["intervals"]["hourly"]["compliant"] is True, c
assert c["intervals"]["hourly"]["count"] == 1, c
b = d["backups"][0]
assert b["job"] == "h1" and b["result"] == "failed", b
assert len(d["attention"]) == 1 and "out of space" in d["attention"][0], d["attention"]
PY

# a long job or source name widens its column instead of pushing the rest
# of its row out of line
sed 's/"h1"/"a-job-name-longer-than-fourteen"/; s#tank/a#tank/a/a/source/dataset/longer/than/thirty-two#' \
	"$work/state/pull-h1.json" >"$work/state/pull-long.json"
out=$($ZK status --config "$work/zkeep.conf" --color never)
python3 - "$out" <<'PY' || log_fail "status columns out of line: $out"
import sys
lines = sys.argv[1].splitlines()
h = [l for l in lines if l.startswith("JOB ")][0]
col = h.index("RESULT")
rows = [l for l in lines[lines.index(h) + 1:] if " pull " in l]
assert len(rows) == 2, rows
assert all(r[col:].startswith("failed ") for r in rows), (col, rows)
PY
