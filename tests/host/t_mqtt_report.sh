# The snapshot report's MQTT (seed-system.md 9, "Report MQTT") against a
# real mosquitto broker started here on a spare loopback port with its own
# config: zfs-snapshot-report --mqtt-publish publishes the Home Assistant
# discovery config and the state, both retained, checked field by field
# (key order too) by a subscriber that asks for retained messages only;
# the stale rule (the finest interval the policy keeps: none, or its
# newest by name older than twice the interval), policy none left out;
# --mqtt-publish without --mqtt-topic exits 1 and publishes nothing; a
# broker that is not there is an error on stderr, exit code and stdout
# unchanged; zkeep api's pool sensors from [mqtt]. zfs and zpool are
# fakes, zfs serving a listing made for ZKEEP_NOW (a tmpfs
# over /usr/local/sbin, first in zkeep's fixed PATH, in a private mount
# namespace: root). Runs on this machine.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/fakezpool.sh"

[ "$(id -u)" = 0 ] || fail "needs root, for unshare -m (a fake zfs)"
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || fail "no mosquitto (scripts/install-deps)"
command -v mosquitto_sub >/dev/null || fail "no mosquitto_sub (scripts/install-deps)"
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
now=1795680000
export TZ=UTC ZKEEP_NOW=$now

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$d/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
EOF
"$mosq" -c "$d/mosquitto.conf" >"$d/mosquitto.log" 2>&1 &
mpid=$!
trap 'kill $mpid 2>/dev/null || true; rm -rf "$d"' EXIT
for _ in $(seq 50); do
	mosquitto_sub -h 127.0.0.1 -p "$port" -t probe -W 1 -C 1 --retained-only >/dev/null 2>&1 && break
	[ $? = 27 ] && break # timed out waiting for a message: the broker answers
	sleep 0.1
done

# the listing: names by ZKEEP_NOW in UTC (name time is what counts)
python3 - "$now" >"$d/list.out" <<'EOF'
import sys, time
now = int(sys.argv[1])
def snap(ds, age, iv, txg):
    n = time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(now - age))
    print(f"{ds}@autosnap_{n}_{iv}\tsnapshot\t{txg}\t{txg}\t{now - age}\t0\t-\t1024\t-")
rows = ["tank", "tank/fresh", "tank/stale", "tank/daily", "tank/bare", "tank/none", "tank/free"]
for i, ds in enumerate(rows):
    print(f"{ds}\tfilesystem\t{100 + i}\t{1 + i}\t{now - 86400}\t1024\t99332096\t1024\t-")
snap("tank/fresh", 3600, "hourly", 20)         # critical: 1 h old hourly: fresh
snap("tank/fresh", 20 * 3600, "daily", 21)
snap("tank/stale", 2 * 3600 + 60, "hourly", 22)  # high: newest hourly 2 h 1 min old
snap("tank/stale", 7200 + 3600 * 30, "daily", 23)
snap("tank/daily", 47 * 3600, "daily", 24)      # keeps no hourly: daily 47 h old: fresh
snap("tank/bare", 3600, "daily", 25)             # low keeps hourly: none there: stale
snap("tank/none", 100 * 86400, "daily", 26)      # none: not in the state
EOF
mkdir -p "$d/sbin"
cat >"$d/sbin/zfs" <<SH
#!/bin/sh
case "\$*" in
version) printf 'zfs-2.3.2-1\nzfs-kmod-2.3.2-1\n' ;;
list\ -Hp\ -t\ filesystem,volume,snapshot*) cat "$d/list.out" ;;
get\ *) ;;
*) echo "fake zfs: \$*" >&2; exit 1 ;;
esac
SH
fake_zpool "$d/sbin/zpool"
chmod 755 "$d/sbin/zfs"
ln -s "$zk" "$d/zfs-snapshot-report"
cat >"$d/c.conf" <<EOF
[policy dailyonly]
hourly = 0
daily = 7
[dataset tank/fresh]
policy = critical
[dataset tank/stale]
policy = high
[dataset tank/daily]
policy = dailyonly
[dataset tank/bare]
policy = low
[dataset tank/none]
policy = none
[mqtt]
port = $port
EOF

# run TOOL ARGS...: in the namespace with the fake zfs; out, err, rc
run() {
	rc=0
	unshare -m --propagation private sh -c 'mount -t tmpfs zkeep-test-sbin /usr/local/sbin &&
		cp "$1/sbin/zfs" "$1/sbin/zpool" /usr/local/sbin/ && shift && exec "$@"' sh "$d" "$@" \
		>"$d/out" 2>"$d/err" || rc=$?
}
retained() { # TOPIC FILE: the retained messages under TOPIC, "retain topic payload"
	mosquitto_sub -h 127.0.0.1 -p "$port" -t "$1" --retained-only -F '%r %t %p' -W 2 \
		>"$2" 2>/dev/null || true
}

topic=homeinfra/monitoring/zfs/testhost/snapshots
run "$d/zfs-snapshot-report" -c "$d/c.conf" --mqtt-publish --mqtt-host 127.0.0.1 --mqtt-topic "$topic"
[ $rc = 0 ] || fail "zfs-snapshot-report --mqtt-publish: exit $rc: $(cat "$d/err")"
grep -q '^Dataset' "$d/out" || fail "the table is gone from stdout: $(cat "$d/out")"
retained '#' "$d/got"
python3 - "$d/got" "$topic" "$now" <<'EOF' || fail "report MQTT (above)"
import json, socket, sys, time
lines = open(sys.argv[1]).read().splitlines()
topic, now = sys.argv[2], int(sys.argv[3])
host = socket.gethostname()
hid = host.replace("-", "_").replace(".", "_")
got = {}
for l in lines:
    r, t, p = l.split(" ", 2)
    assert r == "1", f"not retained: {l}"
    got[t] = p
disc = f"homeassistant/binary_sensor/zfs_snapshots_{hid}/config"
assert set(got) == {disc, topic}, f"topics: {sorted(got)}"
c = json.loads(got[disc])
want = {"name": f"{host} ZFS Snapshots", "state_topic": topic,
        "value_template": "{{ 'ON' if not value_json.ok else 'OFF' }}",
        "payload_on": "ON", "payload_off": "OFF", "device_class": "safety",
        "unique_id": f"zfs_snapshots_{hid}", "json_attributes_topic": topic}
assert list(c.items()) == list(want.items()), f"discovery: {got[disc]}"
assert got[disc].startswith('{"name": '), f"not as json.dumps wrote it: {got[disc]}"
s = json.loads(got[topic])
assert list(s) == ["ok", "host", "checked_at", "stale", "healthy", "datasets"], list(s)
assert s["ok"] is False and s["host"] == host, s
assert s["checked_at"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)), s["checked_at"]
assert s["stale"] == ["tank/bare", "tank/stale"], s["stale"]
assert s["healthy"] == ["tank/daily", "tank/fresh"], s["healthy"]
ds = {e["dataset"]: e for e in s["datasets"]}
assert list(ds) == ["tank/bare", "tank/daily", "tank/fresh", "tank/stale"], list(ds)
iv = ["hourly", "daily", "monthly", "yearly"]
for e in s["datasets"]:
    assert list(e) == ["dataset", "policy", "counts", "retention"], e
    assert list(e["counts"]) == iv and list(e["retention"]) == iv, e
assert ds["tank/fresh"]["policy"] == "critical" and ds["tank/fresh"]["counts"] == \
    {"hourly": 1, "daily": 1, "monthly": 0, "yearly": 0}, ds["tank/fresh"]
assert ds["tank/fresh"]["retention"] == {"hourly": 36, "daily": 30, "monthly": 3, "yearly": 5}
assert ds["tank/daily"]["retention"] == {"hourly": 0, "daily": 7, "monthly": 0, "yearly": 0}
assert ds["tank/stale"]["policy"] == "high" and ds["tank/bare"]["policy"] == "low"
EOF

# a fresh topic each: --mqtt-publish without --mqtt-topic is exit 1, and
# nothing new is published
run "$zk" report -c "$d/c.conf" --mqtt-publish --mqtt-host 127.0.0.1
[ $rc = 1 ] && grep -q -- '--mqtt-topic' "$d/err" || fail "no --mqtt-topic: exit $rc: $(cat "$d/err")"
run "$d/zfs-snapshot-report" -c "$d/c.conf" --mqtt-publish
[ $rc = 1 ] || fail "zfs-snapshot-report without --mqtt-topic: exit $rc"
retained '#' "$d/got2"
[ "$(wc -l <"$d/got2")" = 2 ] || fail "more was published: $(cat "$d/got2")"

# zkeep api's pool sensors ([mqtt] host; zkeep's own, not the seed's):
# one collection publishes each pool's two discovery configs and its state
printf 'host = 127.0.0.1\ntopic_prefix = test/zfs\n[global]\nstate_dir = %s\n' "$d" >>"$d/c.conf"
run "$zk" api -c "$d/c.conf" --metrics-once
[ $rc = 0 ] || fail "zkeep api --metrics-once: exit $rc: $(cat "$d/err")"
retained 'test/zfs/#' "$d/got3"
retained 'homeassistant/+/+/config' "$d/got4"
python3 - "$d/got3" "$d/got4" <<'EOF' || fail "api pool MQTT (above)"
import json, socket, sys
got = {}
for f in sys.argv[1:3]:
    for l in open(f).read().splitlines():
        r, t, p = l.split(" ", 2)
        assert r == "1", f"not retained: {l}"
        got[t] = p
host = socket.gethostname()
hid = host.replace("-", "_").replace(".", "_")
for pool, health, cap, size, alloc, free in (("deg", "DEGRADED", 0, 117440512, 115200, 117325312),
                                             ("fixt", "ONLINE", 3, 251658240, 7954432, 243703808)):
    st = f"test/zfs/{host}/pools/{pool}"
    s = json.loads(got[st])
    assert list(s) == ["pool", "health", "capacity_percent", "size", "allocated", "free",
                       "checked_at"], s
    assert (s["pool"], s["health"], s["capacity_percent"], s["size"], s["allocated"], s["free"]) == \
        (pool, health, cap, size, alloc, free), s
    c = json.loads(got[f"homeassistant/sensor/zfs_pool_{hid}_{pool}/config"])
    assert c["state_topic"] == st and c["unit_of_measurement"] == "%", c
    assert c["value_template"] == "{{ value_json.capacity_percent }}", c
    b = json.loads(got[f"homeassistant/binary_sensor/zfs_pool_health_{hid}_{pool}/config"])
    assert b["state_topic"] == st and b["device_class"] == "problem", b
EOF

# the broker not there: said on stderr, exit 0, stdout unchanged
kill $mpid
wait $mpid 2>/dev/null || true
run "$d/zfs-snapshot-report" -c "$d/c.conf" --json --mqtt-publish --mqtt-host 127.0.0.1 \
	--mqtt-topic "$topic"
[ $rc = 0 ] || fail "broker down: exit $rc (the exit code must not change)"
grep -q "snapshot state not published: MQTT broker 127.0.0.1:$port" "$d/err" ||
	fail "broker down: no error on stderr: $(cat "$d/err")"
python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), list)' "$d/out" ||
	fail "broker down: stdout is not the report: $(cat "$d/out")"
echo "report MQTT: discovery and state retained, as section 9, stale rule, exit codes; api pool sensors"
