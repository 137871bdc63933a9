# zkeep status on real pools: the table, --json, and exit 1 for a pool
# that needs attention.
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

# a degraded mirror: status says so and exits 1
truncate -s 128M /var/tmp/zk-zkd-a.img /var/tmp/zk-zkd-b.img
on_exit rm -f /var/tmp/zk-zkd-a.img /var/tmp/zk-zkd-b.img
log_must zpool create zkd mirror /var/tmp/zk-zkd-a.img /var/tmp/zk-zkd-b.img
on_exit zpool destroy -f zkd
log_must zpool offline zkd /var/tmp/zk-zkd-b.img
out=$($ZK status)
assert_eq $? 1 "status exit code with a degraded pool"
assert_contains "$out" "DEGRADED"
