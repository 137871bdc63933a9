# needs: vm
# cost: 220 (seconds, about: tests/run starts the longest first)
# The live test of deploy/: a real victoria-metrics on loopback scrapes a real
# `zkeep api` running with an API key in the QEMU test VM on real OpenZFS
# (port forwarded over the VM's ssh), with the shipped scrape config (interval
# cut to 2 s, target pointed at the tunnel, the key header uncommented); a real vmalert evaluates the shipped rules against
# it and notifies an HTTP sink. In the VM: a mirror pool with a policy
# dataset, snapshots made by `zkeep snapshot`, a backup made by a real
# `zkeep pull` over ssh to localhost, a pull lock held the way pull holds it,
# a finished scrub. Checks:
#  - victoria-metrics scraped /metrics gzipped (it asks for gzip);
#  - every dashboard panel's query (variables substituted) returns data, and
#    the recording rules produce series;
#  - `zpool offline` of one side of the mirror fires ZfsPoolNotOnline (the
#    seed's rule, its real `for: 2m`) at the sink; `zpool online` resolves it;
#  - the pull's run record made 20 h old fires ZfsBackupStale (its `for` cut
#    from 10m to 20s in the test's copy of the rules, to keep CI short);
#  - nothing else fires.
# About 5 minutes. OpenZFS flavour: ZKEEP_MON_FLAVOUR (default 2.3).
source "$(dirname "$0")/monitoring/lib.sh"
BUILD=${ZKEEP_BUILD:-build}
ZK=$TOP/$BUILD/zkeep
[ -x "$ZK" ] || fail "no $ZK (make first)"
"$ZK" api --help >/dev/null 2>&1 || fail "$ZK has no working 'zkeep api'"
vm_boot zkeep-mon-$$
vm_put "$ZK" /opt/zkmon
key=k$RANDOM$RANDOM$RANDOM
vssh_in "ZKMON_KEY=$key bash -s" >"$T/setup.log" 2>&1 <<'SETUP' || { cat "$T/setup.log"; fail "setup in the VM"; }
set -eux
truncate -s 256M /var/tmp/zkmon-a /var/tmp/zkmon-b /var/tmp/zkmon-c
zpool create -f zkmon mirror /var/tmp/zkmon-a /var/tmp/zkmon-b
zpool create -f zkmonb /var/tmp/zkmon-c
zfs create zkmon/data
dd if=/dev/urandom of=/zkmon/data/f bs=64k count=16 status=none
zfs allow zkb mount,send,hold,snapshot,destroy,release zkmon
mkdir -p /var/tmp/zkmon-st /var/tmp/zkmon-locks
cat >/var/tmp/zkmon.conf <<CONF
[global]
state_dir = /var/tmp/zkmon-st
lock_dir = /var/tmp/zkmon-locks
[dataset zkmon/data]
policy = low
[api]
api_key_file = /var/tmp/zkmon-key
CONF
printf '%s' "$ZKMON_KEY" >/var/tmp/zkmon-key
chmod 600 /var/tmp/zkmon-key
Z="/opt/zkmon/zkeep"
C="--config /var/tmp/zkmon.conf"
$Z snapshot $C --type hourly
$Z snapshot $C --type daily
$Z pull $C --host localhost --user zkb --destination zkmonb --name h --datasets zkmon/data
test -s /var/tmp/zkmon-st/pull-h.json
# a pull lock held, as zkeep pull holds it (flock, pid written for humans)
lockf=/var/tmp/zkmon-locks/zfs-pull-backups-localhost.lock
setsid flock -o "$lockf" sleep 1800 </dev/null >/dev/null 2>&1 &
echo -n $! >"$lockf"
zpool scrub -w zkmon
setsid $Z api $C --listen 127.0.0.1:8000 --interval 2 --debug </dev/null >/var/tmp/zkmon-api.log 2>&1 &
for i in $(seq 1 100); do
	curl -s -H "X-API-Key: $ZKMON_KEY" 127.0.0.1:8000/metrics | grep -q '^zfs_pool_health' && exit 0
	sleep 0.5
done
cat /var/tmp/zkmon-api.log
exit 1
SETUP

# the tunnel: loopback port -> the VM's 127.0.0.1:8000
lport=$(free_port)
vm_forward -L "127.0.0.1:$lport:127.0.0.1:8000"
wait_http "http://127.0.0.1:$lport/api/v1/health" 30
# the api wants its key on /metrics
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$lport/metrics")" = 401 ] ||
	fail "zkeep api with a key served /metrics without it"

# victoria-metrics with the shipped scrape config, 2 s instead of 60 s, the
# key header uncommented
sed -e 's/scrape_interval: 60s/scrape_interval: 2s/' -e 's/scrape_timeout: 30s/scrape_timeout: 2s/' \
	-e 's/^    # headers:/    headers:/' -e "s/^    #   - \"X-API-Key: CHANGE-ME\"/      - \"X-API-Key: $key\"/" \
	-e "s/- fileserver1.example.net:8000/- 127.0.0.1:$lport/" -e '/example.net:8000/d' \
	"$DEPLOY/victoriametrics/scrape.yml" >"$T/scrape.yml"
grep -q "127.0.0.1:$lport" "$T/scrape.yml" || fail "could not point scrape.yml at the tunnel"
grep -q "X-API-Key: $key" "$T/scrape.yml" || fail "could not uncomment the key header in scrape.yml"
vm_start -promscrape.config="$T/scrape.yml"

# vmalert with the shipped rules, groups every 2 s
mkdir "$T/sink"
sink_start record "$T/sink"
sed 's/^    interval: 1m$/    interval: 2s/' "$DEPLOY/vmalert/zkeep-recording.yml" >"$T/recording.yml"
/usr/bin/python3 - "$DEPLOY/vmalert/zkeep-alerts.yml" "$T/alerts.yml" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"(?m)^    interval: 1m$", "    interval: 2s", s)
# ZfsBackupStale: for 10m -> 20s (the only `for` the test changes)
i = s.index("- alert: ZfsBackupStale")
j = s.index("for: 10m", i)
assert j < s.index("- alert:", i + 1)
s = s[:j] + "for: 20s" + s[j + len("for: 10m"):]
open(sys.argv[2], "w").write(s)
PY
vmalert -dryRun -loggerLevel=ERROR -rule="$T/alerts.yml" -rule="$T/recording.yml" || fail "test copy of the rules"
bg vmalert -loggerLevel=ERROR -rule="$T/alerts.yml" -rule="$T/recording.yml" -datasource.url="$VM" \
	-remoteWrite.url="$VM" -notifier.url="$SINK" -evaluationInterval=2s \
	-httpListenAddr="127.0.0.1:$(free_port)" >"$T/vmalert.log" 2>&1

# until a few collections have been scraped (view age resets each time)
ok=0
for _ in $(seq 1 120); do
	n=$(vm_query 'count_over_time(zfs_pool_health{job="zfs",service="zfs-api",pool="zkmon"}[10m])' |
		jq -r '.data.result[0].value[1] // 0')
	[ "$n" -ge 8 ] && { ok=1; break; }
	sleep 1
done
[ $ok = 1 ] || fail "zkeep api's metrics never arrived in victoria-metrics"
# victoria-metrics asks for gzip, as Prometheus does: the series above came
# through zkeep's gzipped /metrics (the api's debug log marks each one)
gz=$(vssh "grep -c 'GET /metrics from .*: 200 (gzip)\$' /var/tmp/zkmon-api.log" || true)
[ "${gz:-0}" -gt 0 ] || fail "victoria-metrics was not sent /metrics gzipped: $(vssh 'tail -3 /var/tmp/zkmon-api.log')"

# --- every panel query returns live data
/usr/bin/python3 "$MON/check-dashboards.py" "$VM" "$(date +%s)" "$DEPLOY"/grafana/dashboards/*.json ||
	fail "dashboard panels on live data"
# --- recording rules
for r in $(sed -n 's/^ *- record: //p' "$DEPLOY/vmalert/zkeep-recording.yml"); do
	ok=0
	for _ in $(seq 1 30); do
		c=$(vm_query "count(last_over_time($r[10m]))" | jq -r '.data.result[0].value[1] // 0')
		[ "$c" -gt 0 ] && { ok=1; break; }
		sleep 1
	done
	[ $ok = 1 ] || fail "recording rule $r produced no series from live data"
done

# --- the alerts
# sink_alerts NAME: the notifications for alert NAME so far, one JSON per line
# with .received (when the sink got it) and .ends (endsAt as unix time)
sink_alerts() {
	cat "$T/sink"/*.json 2>/dev/null | jq -c --arg n "$1" '.received as $r | .alerts[]
		| select(.labels.alertname == $n) | .received = $r
		| .ends = (.endsAt | sub("\\.[0-9]+"; "") | sub("([+-][0-9:]+|Z)$"; "Z") | fromdateiso8601)'
}
# wait_alert NAME SECONDS JQ-CONDITION
wait_alert() {
	local i
	for i in $(seq 1 "$2"); do
		# (jq -e succeeds on empty input: look for an actual match)
		[ -n "$(sink_alerts "$1" | jq -c "$3" 2>/dev/null)" ] && return 0
		sleep 1
	done
	fail "$1: no notification with $3 within $2 s; got: $(cat "$T/sink"/*.json 2>/dev/null | jq -c '.alerts[] | [.labels.alertname, .endsAt]' | sort -u)"
}
ls "$T/sink"/*.json >/dev/null 2>&1 && fail "notifications before anything broke: $(cat "$T/sink"/*.json)"

# taken before: the ssh round trip to a TCG guest can take many seconds
t_off=$(date +%s)
vssh 'zpool offline zkmon /var/tmp/zkmon-b && zpool status -x zkmon | grep -q DEGRADED' || fail "zpool offline"
echo "zpool offline took $(($(date +%s) - t_off)) s"
# the run record as if the pull had last run 20 h ago
vssh_in '/usr/bin/python3 - /var/tmp/zkmon-st/pull-h.json' <<'PY' || fail "aging the run record"
import json, os, sys
p = sys.argv[1]
r = json.load(open(p))
d = 20 * 3600
r["start"] -= d; r["end"] -= d
for x in r["datasets"]:
    x["start"] -= d; x["end"] -= d
    if x.get("last_success"):  # what the api reads as the last success
        x["last_success"] -= d
json.dump(r, open(p + ".tmp", "w"))
os.rename(p + ".tmp", p)
PY
wait_alert ZfsBackupStale 120 'select(.labels.backup_job == "h" and .labels.kind == "pull" and .labels.dataset == "zkmon/data" and (.annotations.summary | test("last succeeded 20h")))'
wait_alert ZfsPoolNotOnline 240 'select(.labels.pool == "zkmon" and .labels.state == "DEGRADED" and .labels.severity == "critical")'
# when the sink first got it firing, against when the offline started
t_fire=$(sink_alerts ZfsPoolNotOnline | jq -s 'map(.received) | min | floor')
[ $((t_fire - t_off)) -ge 120 ] || fail "ZfsPoolNotOnline fired $((t_fire - t_off)) s after the offline, before its 2 minutes: $(sink_alerts ZfsPoolNotOnline | head -3)"
vssh 'zpool online zkmon /var/tmp/zkmon-b' || fail "zpool online"
# resolved: vmalert sends the alert once more with endsAt no later than the
# sending (a firing alert's endsAt lies ahead of it)
wait_alert ZfsPoolNotOnline 120 'select(.labels.pool == "zkmon" and .ends <= .received + 1)'

# nothing else fired
others=$(cat "$T/sink"/*.json | jq -r '.alerts[].labels.alertname' | sort -u | grep -v -x -e ZfsPoolNotOnline -e ZfsBackupStale || true)
[ -z "$others" ] || fail "unexpected alerts: $others"
echo "monitoring live: ok (ZfsPoolNotOnline fired after $((t_fire - t_off)) s and resolved; ZfsBackupStale fired)"
