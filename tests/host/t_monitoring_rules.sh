# deploy/vmalert rules evaluated by a real vmalert against a real
# victoria-metrics holding 14 h of SAMPLE data (tests/host/monitoring/
# sample-data.py: a scripted fleet, not the live exporter; the live test is
# tests/host/t_monitoring_live.sh). Checks:
#  - replaying the 14 h (vmalert -replay, so `for` durations count), exactly
#    the alerts in expected-alerts.txt fire, with those labels: no more, no less;
#  - every recording rule produces series, and one value is checked;
#  - vmalert running in real time sends a firing alert to an HTTP sink with
#    its annotations rendered (no "<no value>").
source "$(dirname "$0")/monitoring/lib.sh"
A=$DEPLOY/vmalert
end=$(date +%s)
/usr/bin/python3 "$MON/sample-data.py" "$end" 14 60 >"$T/data.prom"
# the sample data uses only names zkeep api writes (and the scraper's `up`)
grep -ohE '"(zfs|zkeep)_[a-z_]+"' "$TOP/lib/metrics.c" | tr -d '"' | sort -u >"$T/exported.txt"
sed 's/{.*//' "$T/data.prom" | sort -u | grep -vx up >"$T/sample-names.txt"
unknown=$(comm -23 "$T/sample-names.txt" "$T/exported.txt")
[ -z "$unknown" ] || fail "sample data names metrics zkeep api does not write: $unknown"
vm_start -retentionPeriod=1y
vm_import "$T/data.prom"
n=$(vm_query 'count(zfs_pool_health)' "$end" | jq -r '.data.result[0].value[1]')
[ "$n" = 7 ] || fail "sample data not in: count(zfs_pool_health)=$n"

# --- replay the whole window. The step of the replay's range queries must be
# the groups' 1m interval: with vmalert 1.79's default -datasource.queryStep
# (5m) the points are 5m apart, which replay takes for gaps, and no alert with
# a `for` ever leaves pending.
from=$(date -u -d "@$((end - 14 * 3600 + 120))" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
vmalert -loggerLevel=ERROR -rule="$A/zkeep-alerts.yml" -rule="$A/zkeep-recording.yml" \
	-datasource.url="$VM" -remoteWrite.url="$VM" -replay.timeFrom="$from" -replay.timeTo="$to" \
	-replay.disableProgressBar -replay.rulesDelay=0s -datasource.queryStep=1m >"$T/replay.log" 2>&1 || {
	cat "$T/replay.log"
	fail "vmalert replay failed"
}
curl -fsS "$VM/internal/force_flush" >/dev/null
# every alert that was firing at any point of the window, with its labels
# (the scrape's job/service and vmalert's own alertstate/severity aside)
vm_query 'max_over_time(ALERTS{alertstate="firing"}[15h])' "$end" >"$T/alerts.json"
[ "$(jq -r .status "$T/alerts.json")" = success ] || fail "ALERTS query: $(cat "$T/alerts.json")"
jq -r '.data.result[].metric | del(.__name__, .alertstate, .alertgroup, .severity, .job, .service)
	| .alertname + " " + ([to_entries[] | select(.key != "alertname") | .key + "=" + .value] | sort | join(","))' \
	"$T/alerts.json" | LC_ALL=C sort >"$T/got.txt"
LC_ALL=C sort "$MON/expected-alerts.txt" | grep -v '^#' >"$T/want.txt"
if ! diff -u "$T/want.txt" "$T/got.txt"; then
	vm_query 'count by (alertname, alertstate) (count_over_time(ALERTS[15h]))' "$end" |
		jq -c '.data.result[] | [.metric.alertname, .metric.alertstate, .value[1]]'
	fail "fired alerts differ from expected-alerts.txt (- expected, + fired)"
fi
# pending is not enough: each of them reached "firing" only after its `for`
# (ZfsBackupResumePending needs 12 h: it fired in the last 2 h of the window)
t=$(vm_query 'tmin_over_time(ALERTS{alertname="ZfsBackupResumePending",alertstate="firing"}[15h])' "$end" |
	jq -r '.data.result[0].value[1]')
[ "${t%.*}" -ge $((end - 14 * 3600 + 12 * 3600)) ] || fail "ZfsBackupResumePending fired before its 12 h: $t"

# --- recording rules
for r in $(sed -n 's/^ *- record: //p' "$A/zkeep-recording.yml"); do
	c=$(vm_query "count(last_over_time($r[15h]))" "$end" | jq -r '.data.result[0].value[1] // 0')
	[ "$c" -gt 0 ] || fail "recording rule $r produced no series"
done
v=$(vm_query 'last_over_time(hostname_policy_interval:zfs_snapshot_compliance_percent:avg{hostname="nas1",policy="high",interval="hourly"}[15h])' "$end" |
	jq -r '.data.result[0].value[1]')
[ "$v" = 70 ] || fail "compliance avg of nas1/high/hourly is $v, want 70 (100 and 40)"

# --- real time: an alert really sent to a notifier, annotations rendered
mkdir "$T/sink"
sink_start record "$T/sink"
# a fresh copy of the data ending now, so that instant queries see it
now=$(date +%s)
/usr/bin/python3 "$MON/sample-data.py" "$now" 0.5 60 >"$T/now.prom"
vm_import "$T/now.prom"
# the groups' interval cut from 1m to 2s (vmalert starts each group at a
# random point of its interval); rules and `for` durations as shipped
sed 's/^    interval: 1m$/    interval: 2s/' "$A/zkeep-alerts.yml" >"$T/alerts-2s.yml"
grep -q 'interval: 2s' "$T/alerts-2s.yml" || fail "could not shorten the group interval"
bg vmalert -loggerLevel=ERROR -rule="$T/alerts-2s.yml" -datasource.url="$VM" \
	-notifier.url="$SINK" -evaluationInterval=2s -httpListenAddr="127.0.0.1:$(free_port)" \
	-external.url=http://grafana.example.net >"$T/vmalert.log" 2>&1
got=""
for _ in $(seq 1 150); do
	if ls "$T/sink"/*.json >/dev/null 2>&1 &&
		got=$(jq -cs '[.[].alerts[] | select(.labels.alertname == "ZfsBackupFailed")] | .[0] // empty' "$T/sink"/*.json) &&
		[ -n "$got" ]; then
		break
	fi
	sleep 0.2
done
[ -n "$got" ] || fail "ZfsBackupFailed (for: 0m) never reached the notifier"
s=$(jq -r .annotations.summary <<<"$got")
[ "$s" = "Last push run of slowpool/backups/nas1/fastpool/home from backup1 to offsite1:fastpool/backups/raw/nas1/fastpool/home failed" ] ||
	fail "summary rendered as: $s"
jq -r .annotations.description <<<"$got" | grep -q "The last run of job offsite on backup1 failed" ||
	fail "description not rendered: $(jq -r .annotations.description <<<"$got")"
! grep -l 'no value' "$T/sink"/*.json || fail "an annotation rendered '<no value>'"
echo "monitoring rules: ok"
