# MQTT with Home Assistant discovery (seed-system.md 9) against a real
# mosquitto broker started here on a spare port with its own config (not
# the system's): a pull where every dataset is fresh publishes its
# retained discovery config and state ok true, checked field by field; a
# pull where one dataset's newest autosnap is 5 h old: ok false, that one
# stale (under --mqtt-name and --mqtt-topic-prefix); under the seed's name
# a successful pull publishes and a failed one publishes nothing, exit
# code unchanged, while zkeep pull publishes its failure; the report's
# discovery and state; a broker that is down: an error, exit code
# unchanged. Runs inside the VM.
# On OpenZFS 2.1 only: what is published does not depend on the flavour
# (the pull under it is t_pull's, on both), and the seed's fleet runs 2.1.
# zkeep-it: flavour 2.1
. ./lib.sh

mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$mosq" ] || log_fail "no mosquitto in the VM image"
command -v mosquitto_sub >/dev/null || log_fail "no mosquitto_sub in the VM image"
work=$(mktemp -d)
on_exit rm -rf "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
broker_start() {
	"$mosq" -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
	mpid=$!
	on_exit kill $mpid
	for _ in $(seq 50); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
			"$port" 2>/dev/null && return 0
		sleep 0.1
	done
	log_fail "mosquitto did not start: $(cat "$work/mosquitto.log")"
}
broker_start

# retained: every retained message on the broker as JSON {topic: payload}
cat >"$work/retained.py" <<'PY'
import json, subprocess, sys
p = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", sys.argv[1], "-t", "#",
                    "--retained-only", "-F", "%r %t %p", "-W", "2"],
                   capture_output=True, text=True)
got = {}
for l in p.stdout.splitlines():
    r, t, m = l.split(" ", 2)
    assert r == "1", f"not retained: {l}"
    got[t] = m
json.dump(got, sys.stdout)
PY
# mqttcheck.py: a sensor's discovery config, field by field and in order
cat >"$work/mqttcheck.py" <<'PY'
import json
def discovery(got, kind, who, title, state):
    """got's retained config of zfs_<kind>_<id>, as section 9 writes it."""
    wid = who.replace("-", "_").replace(".", "_")
    topic = f"homeassistant/binary_sensor/zfs_{kind}_{wid}/config"
    assert topic in got and state in got, f"topics: {sorted(got)}"
    want = {"name": f"{who} {title}", "state_topic": state,
            "value_template": "{{ 'ON' if not value_json.ok else 'OFF' }}",
            "payload_on": "ON", "payload_off": "OFF", "device_class": "safety",
            "unique_id": f"zfs_{kind}_{wid}", "json_attributes_topic": state}
    assert list(json.loads(got[topic]).items()) == list(want.items()), got[topic]
    return json.loads(got[state])
PY
# check.py RETAINED M P OK STALE HEALTHY: the pull's two messages, field by field
cat >"$work/check.py" <<'PY'
import json, re, sys, time
from mqttcheck import discovery
got = json.load(open(sys.argv[1]))
m, p, ok = sys.argv[2], sys.argv[3], sys.argv[4] == "true"
stale, healthy = json.loads(sys.argv[5]), json.loads(sys.argv[6])
s = discovery(got, "backups", m, "ZFS Backups", f"{p}/{m}/backups")
assert list(s) == ["ok", "host", "pulled_at", "stale_datasets", "healthy_datasets"], list(s)
assert s["ok"] is ok and s["host"] == m, s
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", s["pulled_at"]), s
age = time.time() - time.mktime(time.strptime(s["pulled_at"], "%Y-%m-%dT%H:%M:%S"))
assert -5 < age < 600, f"pulled_at {s['pulled_at']} is not local now"
assert s["stale_datasets"] == stale, f"stale {s['stale_datasets']}, want {stale}"
assert s["healthy_datasets"] == healthy, f"healthy {s['healthy_datasets']}, want {healthy}"
PY
retained() { python3 "$work/retained.py" "$port" >"$work/got.json" || log_fail "mosquitto_sub"; }
check() { python3 "$work/check.py" "$work/got.json" "$@" || log_fail "MQTT state (above): $*"; }

pool_create zsrc
pool_create zdst
for d in app app/db old; do log_must zfs create "zsrc/$d"; done
fresh=$(date -d '-1 hour' +%Y-%m-%d_%H:%M:%S)
old=$(date -d '-5 hours' +%Y-%m-%d_%H:%M:%S)
log_must zfs snapshot -r "zsrc/app@autosnap_${fresh}_hourly"
log_must zfs snapshot "zsrc/old@autosnap_${old}_hourly"
log_must zfs snapshot zsrc/old@manual # a newer name that is not a policy snapshot
log_must zfs allow zkb mount,send,hold,snapshot,destroy,release,bookmark zsrc
printf '[global]\nstate_dir = %s\nlock_dir = %s\n[mqtt]\nport = %s\n' "$work" "$work" "$port" \
	>"$work/zkeep.conf"
PULL=("$ZK" pull --config "$work/zkeep.conf" --host localhost --user zkb --destination zdst)

# (a) every dataset fresh: ok true, the defaults (prefix, M = --name)
log_must "${PULL[@]}" --name client --datasets zsrc/app --mqtt-host 127.0.0.1 >/dev/null
retained
check client homeinfra/monitoring/zfs true '[]' '["zsrc/app", "zsrc/app/db"]'

# (b) one dataset's newest autosnap 5 h old: ok false, that one stale; the
# run itself succeeded (exit 0); --mqtt-name and --mqtt-topic-prefix
log_must "${PULL[@]}" --name client --datasets zsrc/app zsrc/old --mqtt-host 127.0.0.1 \
	--mqtt-topic-prefix test/zfs --mqtt-name client-b.lan >/dev/null
retained
check client-b.lan test/zfs false '["zsrc/old"]' '["zsrc/app", "zsrc/app/db"]'

# (c) under the seed's name: a successful pull publishes (with [mqtt] host
# standing in for the flag), a failed one publishes nothing and keeps its
# exit code; zkeep pull publishes the failure
ln -s "$ZK" "$work/zfs-pull-backups"
printf 'host = 127.0.0.1\n' >>"$work/zkeep.conf"
SEED=("$work/zfs-pull-backups" --config "$work/zkeep.conf" --host localhost --user zkb
	--destination zdst)
log_must "${SEED[@]}" --name seedok --datasets zsrc/app >/dev/null
retained
check seedok homeinfra/monitoring/zfs true '[]' '["zsrc/app", "zsrc/app/db"]'
must_exit 1 "${SEED[@]}" --name seedfail --datasets zsrc/app zsrc/nothere
retained
python3 - "$work/got.json" <<'PY' || log_fail "a failed seed pull published"
import json, sys
got = json.load(open(sys.argv[1]))
bad = [t for t in got if "seedfail" in t]
assert not bad, bad
PY
# (the source listing fails as a whole: nothing is pulled, and neither
# target exists; both stale)
must_exit 1 "${PULL[@]}" --name failing --datasets zsrc/app zsrc/nothere
retained
check failing homeinfra/monitoring/zfs false '["zsrc/app", "zsrc/nothere"]' '[]'
# a run where one dataset fails (its target diverged) and the others are
# pulled: that one is stale though its snapshots are fresh, the others by
# their age; --force then repairs it
log_must zfs snapshot zdst/client/zsrc/app/db@local
log_must zfs snapshot -r "zsrc/app@autosnap_$(date -d '-30 minutes' +%Y-%m-%d_%H:%M:%S)_hourly"
must_exit 1 "${PULL[@]}" --name client --datasets zsrc/app zsrc/old
retained
check client homeinfra/monitoring/zfs false '["zsrc/app/db", "zsrc/old"]' '["zsrc/app"]'
log_must "${PULL[@]}" --name client --datasets zsrc/app --force >/dev/null

# (e) the report: discovery and state of the managed datasets, policy none
# left out; zsrc/old's newest hourly is 5 h old: stale
cat >"$work/report.conf" <<EOF
[dataset zsrc/app]
policy = critical
[dataset zsrc/old]
policy = high
[dataset zsrc/app/db]
policy = none
[mqtt]
port = $port
EOF
topic=homeinfra/monitoring/zfs/vm/snapshots
log_must "$ZK" report --config "$work/report.conf" --mqtt-publish --mqtt-host 127.0.0.1 \
	--mqtt-topic $topic >/dev/null
retained
PYTHONPATH=$work python3 - "$work/got.json" "$topic" <<'PY' || log_fail "report MQTT (above)"
import json, re, socket, sys
from mqttcheck import discovery
got, topic = json.load(open(sys.argv[1])), sys.argv[2]
host = socket.gethostname()
s = discovery(got, "snapshots", host, "ZFS Snapshots", topic)
assert list(s) == ["ok", "host", "checked_at", "stale", "healthy", "datasets"], list(s)
assert s["ok"] is False and s["host"] == host, s
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", s["checked_at"]), s
assert s["stale"] == ["zsrc/old"] and s["healthy"] == ["zsrc/app"], s
iv = {"hourly": 0, "daily": 0, "monthly": 0, "yearly": 0}
assert s["datasets"] == [
    {"dataset": "zsrc/app", "policy": "critical", "counts": dict(iv, hourly=2),
     "retention": {"hourly": 36, "daily": 30, "monthly": 3, "yearly": 5}},
    {"dataset": "zsrc/old", "policy": "high", "counts": dict(iv, hourly=1),
     "retention": {"hourly": 24, "daily": 14, "monthly": 1, "yearly": 1}}], s["datasets"]
PY

# (d) the broker down: said, exit codes unchanged (0 and 1)
kill $mpid
wait $mpid 2>/dev/null
out=$(log_must "${PULL[@]}" --name client --datasets zsrc/app 2>&1)
assert_contains "$out" "MQTT state of client not published: MQTT broker 127.0.0.1:$port"
out=$(log_must "${SEED[@]}" --name seedok --datasets zsrc/app 2>&1)
# under the seed's name as the seed printed a failed mosquitto_pub: a 🚨 line
assert_contains "$out" "🚨 MQTT state of seedok not published"
must_exit 1 --msg "MQTT state of failing not published" "${PULL[@]}" --name failing \
	--datasets zsrc/nothere
out=$(log_must "$ZK" report --config "$work/report.conf" --mqtt-publish --mqtt-host 127.0.0.1 \
	--mqtt-topic $topic 2>&1)
assert_contains "$out" "snapshot state not published: MQTT broker 127.0.0.1:$port"
echo "mqtt: pull and report discovery and state as section 9; seed rule; broker down"
