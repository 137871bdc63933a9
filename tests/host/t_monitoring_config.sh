# deploy/victoriametrics and deploy/vmalert: every config passes the real
# tools' own checks (victoria-metrics -promscrape.config.dryRun, vmagent
# -dryRun, vmalert -dryRun, strict parsing), broken copies are rejected (so
# the checks bite), the shipped flags start a real victoria-metrics with 1
# year retention, and the shipped scrape config really scrapes: job=zfs,
# service=zfs-api, the X-API-Key header sent when uncommented, the exporter's
# backup job label arriving as backup_job. Every metric the rules,
# dashboards and docs name is one that lib/metrics.c writes. The scrape
# target here is a static text server standing in for zkeep api (the live
# test, t_monitoring_live.sh, scrapes the real one).
source "$(dirname "$0")/monitoring/lib.sh"
V=$DEPLOY/victoriametrics
A=$DEPLOY/vmalert

# --- static checks
victoria-metrics -loggerLevel=ERROR -promscrape.config="$V/scrape.yml" -promscrape.config.dryRun ||
	fail "scrape.yml rejected"
# the optional key header, uncommented
sed 's/^    # headers:/    headers:/; s/^    #   - "X-API-Key/      - "X-API-Key/' "$V/scrape.yml" >"$T/scrape-key.yml"
grep -q '^    headers:' "$T/scrape-key.yml" || fail "could not uncomment headers in scrape.yml"
victoria-metrics -loggerLevel=ERROR -promscrape.config="$T/scrape-key.yml" -promscrape.config.dryRun ||
	fail "scrape.yml with headers rejected"
vmagent -loggerLevel=ERROR -promscrape.config="$V/vmagent-offsite.yml" -dryRun || fail "vmagent-offsite.yml rejected"
# negative control: an unknown field must fail the same check
sed 's/^    scrape_interval: 60s/    scrape_intervall: 60s/' "$V/scrape.yml" >"$T/bad.yml"
! victoria-metrics -loggerLevel=ERROR -promscrape.config="$T/bad.yml" -promscrape.config.dryRun 2>/dev/null ||
	fail "a misspelt field passed -promscrape.config.dryRun"

rules=("$A"/*.yml)
[ ${#rules[@]} -ge 2 ] || fail "no rule files in $A"
for r in "${rules[@]}"; do
	vmalert -loggerLevel=ERROR -dryRun -rule="$r" || fail "vmalert -dryRun rejected $r"
done
# negative controls: a broken expression and a broken template are rejected
sed '0,/expr: zfs_pool_health < 1/s//expr: zfs_pool_health < (1/' "$A/zkeep-alerts.yml" >"$T/bad-expr.yml"
! vmalert -loggerLevel=ERROR -dryRun -rule="$T/bad-expr.yml" 2>/dev/null || fail "broken expr passed vmalert -dryRun"
sed '0,/{{ \$labels.pool }}/s//{{ $labels.pool | nosuchfunc }}/' "$A/zkeep-alerts.yml" >"$T/bad-tpl.yml"
! vmalert -loggerLevel=ERROR -dryRun -rule="$T/bad-tpl.yml" 2>/dev/null || fail "broken template passed vmalert -dryRun"

# every alert has a severity, a summary and a description that says what to do
n=0
while IFS=$'\t' read -r name sev summary desc; do
	n=$((n + 1))
	case "$sev" in critical | warning | info) ;; *) fail "$name: severity '$sev'" ;; esac
	[ ${#summary} -ge 20 ] || fail "$name: summary too short"
	[ ${#desc} -ge 120 ] || fail "$name: description too short to say what to do"
done < <(/usr/bin/python3 - "$A/zkeep-alerts.yml" <<'PY'
import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        if "alert" in r:
            a = r.get("annotations", {})
            print("\t".join([r["alert"], r.get("labels", {}).get("severity", ""),
                             " ".join(a.get("summary", "").split()),
                             " ".join(a.get("description", "").split())]))
PY
)
[ $n -ge 15 ] || fail "only $n alerts found"
# the alerts issue 6 asks for are all there
for a in ZfsPoolNotOnline ZfsPoolCapacityHigh ZfsPoolFullIn7Days ZfsPoolScrubErrors ZfsPoolScrubOverdue \
	ZfsSnapshotsStale ZfsSnapshotComplianceLow ZfsBackupStale ZfsBackupFailed ZkeepLockHeldLong \
	ZkeepCollectorFailing ZkeepMetricsMissing ZkeepTargetDown; do
	grep -q "^      - alert: $a\$" "$A/zkeep-alerts.yml" || fail "alert $a missing"
done
# the seed's rule, unchanged
grep -A2 'alert: ZfsPoolNotOnline' "$A/zkeep-alerts.yml" | grep -q 'expr: zfs_pool_health < 1$' || fail "seed rule changed"

# every exporter metric the rules, dashboards and docs name is one that
# zkeep api writes (the names are string literals in lib/metrics.c); the
# recording rules' own names (level:metric:op) are not exporter metrics
[ -f "$TOP/lib/metrics.c" ] || fail "no lib/metrics.c (the exporter) to check the metric names against"
grep -ohE '"(zfs|zkeep)_[a-z_]+"' "$TOP/lib/metrics.c" | tr -d '"' | sort -u >"$T/exported.txt"
[ "$(wc -l <"$T/exported.txt")" -ge 30 ] || fail "too few metric names found in lib/metrics.c"
grep -ohP '(?<![:A-Za-z0-9_])(zfs|zkeep)_[a-z_]+(?![:a-z_])' "$A"/*.yml "$DEPLOY"/grafana/dashboards/*.json \
	"$DEPLOY"/grafana/dashboards.py "$TOP/docs/monitoring.md" |
	grep -v '_$' | sort -u >"$T/used.txt" # a name ending in _ is a prefix (MQTT's zfs_backups_<id>), not a metric
[ "$(wc -l <"$T/used.txt")" -ge 30 ] || fail "too few metric names found in the rules and dashboards"
unknown=$(comm -23 "$T/used.txt" "$T/exported.txt")
[ -z "$unknown" ] || fail "named but not exported by zkeep api: $unknown"

# vmalert's shipped flags check out (paths pointed at the repo)
( . "$A/vmalert.default"; vmalert -loggerLevel=ERROR -dryRun ${ARGS//\/etc\/vmalert\//$A/} ) || fail "vmalert.default ARGS rejected"

# --- the shipped victoria-metrics flags: a real server with 1 year retention
(
	. "$V/victoria-metrics.default"
	a=${ARGS//\/var\/lib\/victoria-metrics/$T/vm-default}
	a=${a//\/etc\/victoria-metrics\/scrape.yml/$V/scrape.yml}
	port=$(free_port)
	a=${a//-httpListenAddr=:8428/-httpListenAddr=127.0.0.1:$port}
	# shellcheck disable=SC2086
	victoria-metrics $a -loggerLevel=ERROR >"$T/vm-default.log" 2>&1 &
	pid=$!
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
	wait_http "http://127.0.0.1:$port/health"
	flags=$(curl -fsS "http://127.0.0.1:$port/flags")
	grep -qx -- '-retentionPeriod="1y"' <<<"$flags" || fail "retention is not 1y: $flags"
	grep -q -- "-promscrape.config=\"$V/scrape.yml\"" <<<"$flags" || fail "scrape config not in use"
) || exit 1

# --- the scrape config really scrapes (interval and target rewritten so a
# test needs seconds, everything else as shipped, header uncommented)
key=k-$RANDOM$RANDOM
cat >"$T/exporter.prom" <<PROM
# TYPE zfs_pool_health gauge
zfs_pool_health{hostname="nas1",pool="tank",state="ONLINE"} 1
# TYPE zfs_backup_last_run_success gauge
zfs_backup_last_run_success{hostname="nas1",backup_job="pull-nas2",kind="pull",source="nas2",dataset="tank/home",destination="slowpool/backups/nas2"} 1
PROM
sink_start serve "$T/exporter.prom" "$key"
target=${SINK#http://}
sed -e "s/CHANGE-ME/$key/" -e 's/scrape_interval: 60s/scrape_interval: 1s/' -e 's/scrape_timeout: 30s/scrape_timeout: 1s/' \
	-e "s/- fileserver1.example.net:8000/- $target/" -e '/example.net:8000/d' "$T/scrape-key.yml" >"$T/scrape-live.yml"
vm_start -promscrape.config="$T/scrape-live.yml"
ok=0
for _ in $(seq 1 100); do
	r=$(vm_query 'zfs_pool_health{job="zfs",service="zfs-api"}' | jq -r '.data.result | length')
	[ "$r" = 1 ] && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] || fail "no zfs_pool_health{job=\"zfs\",service=\"zfs-api\"} scraped; requests: $(cat "$T/exporter.prom.requests" 2>/dev/null)"
grep -q '^/metrics key-ok$' "$T/exporter.prom.requests" || fail "X-API-Key header not sent"
! grep -q 'key-bad' "$T/exporter.prom.requests" || fail "a scrape came without the key"
b=$(vm_query 'zfs_backup_last_run_success' | jq -c '.data.result[0].metric')
[ "$(jq -r .job <<<"$b")" = zfs ] || fail "backup series lost job=zfs: $b"
[ "$(jq -r .backup_job <<<"$b")" = pull-nas2 ] || fail "backup job label is not backup_job: $b"
[ "$(jq -r '.exported_job // "none"' <<<"$b")" = none ] || fail "exported_job left on the series: $b"
[ "$(vm_query 'up{job="zfs"}' | jq -r '.data.result[0].value[1]')" = 1 ] || fail "up{job=zfs} is not 1"

# --- vmagent (offsite): scrapes the same stand-in and remote-writes into $VM
sed -e 's/scrape_interval: 60s/scrape_interval: 1s/' -e 's/scrape_timeout: 30s/scrape_timeout: 1s/' \
	-e "s/127.0.0.1:8000/$target/" -e 's/^    # headers:/    headers:/' \
	-e "s/^    #   - \"X-API-Key: CHANGE-ME\"/      - \"X-API-Key: $key\"/" \
	"$V/vmagent-offsite.yml" >"$T/vmagent.yml"
bg vmagent -loggerLevel=ERROR -promscrape.config="$T/vmagent.yml" -remoteWrite.url="$VM/api/v1/write" \
	-remoteWrite.tmpDataPath="$T/vmagent" -remoteWrite.flushInterval=200ms -httpListenAddr="127.0.0.1:$(free_port)" \
	-remoteWrite.label=via=vmagent
ok=0
for _ in $(seq 1 100); do
	r=$(vm_query 'zfs_pool_health{job="zfs",service="zfs-api",via="vmagent"}' | jq -r '.data.result | length')
	[ "$r" = 1 ] && { ok=1; break; }
	sleep 0.2
done
[ $ok = 1 ] || fail "vmagent's remote write never arrived"
r=$(vm_query 'zfs_backup_last_run_success{via="vmagent"}' | jq -r '.data.result[0].metric.backup_job')
[ "$r" = pull-nas2 ] || fail "vmagent: backup_job not set ($r)"
echo "monitoring config: ok"
