# The one "needs attention" rule (lib/attention.h) seen from its four
# readers, for one host under three configs that differ only in [attention]
# thresholds: `zkeep status` (exit code and reasons), the /ui/ page's
# attention box, /metrics' zkeep_attention_state, and the shipped alert
# rules (deploy/vmalert/zkeep-alerts.yml, evaluated by a real vmalert
# replaying that /metrics in a real victoria-metrics). They must agree:
#   warn: the defaults. Pool tank 85% full (warning above 80), a pull whose
#         last success was 10 h ago (critical only after 14 h): warning,
#         exit 1, ZfsPoolCapacityHigh only.
#   crit: backup_age_pull = 8h: the pull is critical too: exit 2,
#         ZfsPoolCapacityHigh and ZfsBackupStale.
#   ok:   pool_capacity_warning = 90 (critical 95): nothing: exit 0, no
#         alert.
# Usage errors are "unknown" (3), as Nagios wants.
#
# zkeep runs against a fake zfs and zpool (a tmpfs over /usr/local/sbin,
# first in zkeep's fixed PATH, in a private mount namespace: root) and a
# run record in its state_dir. Runs on this machine, about a minute.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root, for unshare -m"; exit 1; }
if [ -z "${ZK_ATT_NS:-}" ]; then
	exec env ZK_ATT_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/monitoring/lib.sh"
ZK=$TOP/${ZKEEP_BUILD:-build}/zkeep
[ -x "$ZK" ] || fail "no $ZK (make first)"
fx=$TOP/tests/fixtures/2.3
now=$(date +%s)

mount -t tmpfs zkeep-test-sbin /usr/local/sbin
cat >/usr/local/sbin/zfs <<SH
#!/bin/sh
case "\$*" in
version) cat "$fx/version.out" ;;
list\ -Hp\ *) printf 'tank\tfilesystem\t1\t1\t1795679445\t850\t150\t100\t-\n' ;;
get\ *) ;;
*) echo "fake zfs: \$*" >&2; exit 1 ;;
esac
SH
cat >/usr/local/sbin/zpool <<'SH'
#!/bin/sh
case "$*" in
list\ -Hp\ *) printf 'tank\t1000000000\t850000000\t150000000\t5\t85\tONLINE\n' ;;
status\ -p\ tank) printf '  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME  STATE  READ WRITE CKSUM\n\ttank  ONLINE    0     0     0\n\t  sda ONLINE    0     0     0\n\nerrors: No known data errors\n' ;;
iostat\ *) echo "tank iostat" ;;
*) echo "fake zpool: $*" >&2; exit 1 ;;
esac
SH
chmod 755 /usr/local/sbin/zfs /usr/local/sbin/zpool

mkdir -p "$T/state" "$T/locks"
ok_at=$((now - 10 * 3600))
cat >"$T/state/pull-nas1.json" <<REC
{"version": 1, "job": "nas1", "kind": "pull", "source_host": "zfsbackup@nas1",
 "destination_host": "local", "start": $((ok_at - 60)), "end": $ok_at, "result": "ok",
 "error": null, "datasets": [{"source": "tank/data", "target": "tank/backups/nas1/tank/data",
 "result": "ok", "error": null, "bytes": 4096, "start": $((ok_at - 50)), "end": $ok_at,
 "newest": null, "resume_token": null, "matched_by_name": false, "last_success": $ok_at}]}
REC
conf() { # NAME [attention] lines...
	local n=$1
	shift
	{
		printf '[global]\nstate_dir = %s\nlock_dir = %s\n[attention]\n' "$T/state" "$T/locks"
		printf '%s\n' "$@"
	} >"$T/$n.conf"
}
conf warn
conf crit "backup_age_pull = 8h"
conf ok "pool_capacity_warning = 90" "pool_capacity_critical = 95"

# --- status: exit code and reasons
for c in warn crit ok; do
	rc=0
	"$ZK" status --config "$T/$c.conf" --color never >"$T/$c.status" 2>"$T/$c.status.err" || rc=$?
	echo "$rc" >"$T/$c.rc"
	"$ZK" status --config "$T/$c.conf" --json 2>/dev/null >"$T/$c.json" || true
done
[ "$(cat "$T/warn.rc")" = 1 ] || fail "status warn: exit $(cat "$T/warn.rc"), want 1: $(cat "$T/warn.status")"
[ "$(cat "$T/crit.rc")" = 2 ] || fail "status crit: exit $(cat "$T/crit.rc"), want 2: $(cat "$T/crit.status")"
[ "$(cat "$T/ok.rc")" = 0 ] || fail "status ok: exit $(cat "$T/ok.rc"), want 0: $(cat "$T/ok.status")"
grep -qx '  warning: pool tank is 85% full (warning above 80%)' "$T/warn.status" ||
	fail "status warn lacks the capacity reason: $(cat "$T/warn.status")"
! grep -q 'critical:' "$T/warn.status" || fail "status warn says critical: $(cat "$T/warn.status")"
grep -qx '  critical: backup nas1 (pull) of tank/data: last success 10h ago (critical after 8h)' "$T/crit.status" ||
	fail "status crit lacks the backup's reason: $(cat "$T/crit.status")"
! grep -q 'needs attention' "$T/ok.status" || fail "status ok lists something: $(cat "$T/ok.status")"
for c in warn crit ok; do
	want=$(sed 's/warn/warning/; s/crit/critical/' <<<"$c")
	[ "$(jq -r .state "$T/$c.json")" = "$want" ] || fail "status --json $c: state $(jq -r .state "$T/$c.json")"
done
# its own errors are unknown (3), not critical
rc=0
"$ZK" status --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "status --bogus exited $rc, want 3"
printf '[attention]\nbackup_age_pull = 14\n' >"$T/bad.conf"
rc=0
"$ZK" status --config "$T/bad.conf" >/dev/null 2>"$T/bad.err" || rc=$?
[ "$rc" = 3 ] || fail "status with a bad config exited $rc, want 3"
grep -q "bad.conf:2: backup_age_pull: '14' is not a duration" "$T/bad.err" ||
	fail "the config error does not name the key and line: $(cat "$T/bad.err")"

# --- the api: /ui/'s attention box and /metrics, each config its own api
for c in warn crit ok; do
	port=$(free_port)
	HOSTNAME=att-$c bg "$ZK" api --config "$T/$c.conf" --listen "127.0.0.1:$port" --interval 3600 \
		>"$T/$c.api.log" 2>&1
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$port/ui/" >"$T/$c.ui" 2>/dev/null &&
			grep -q 'id="attention"' "$T/$c.ui" && break
		sleep 0.1
	done
	grep -q 'id="attention"' "$T/$c.ui" || fail "no /ui/ page from the $c api: $(cat "$T/$c.api.log")"
	curl -fsS "http://127.0.0.1:$port/metrics" >"$T/$c.metrics"
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
done
grep -q '<div class="att" id="attention" data-state="warning">' "$T/warn.ui" || fail "/ui/ warn: $(grep -o '<[a-z]* class="att".*' "$T/warn.ui")"
grep -q '<li class="warning">warning: pool tank is 85% full (warning above 80%)</li>' "$T/warn.ui" ||
	fail "/ui/ warn lacks the capacity reason"
[ "$(grep -o '<li class=' "$T/warn.ui" | wc -l)" = 1 ] || fail "/ui/ warn lists more than the pool"
grep -q 'data-state="critical"' "$T/crit.ui" || fail "/ui/ crit is not critical"
grep -q '<li class="critical">critical: backup nas1 (pull) of tank/data: last success 10h ago (critical after 8h)</li>' "$T/crit.ui" ||
	fail "/ui/ crit lacks the backup's reason"
grep -q '<p id="attention" data-state="ok"><span class="b ok">all good</span></p>' "$T/ok.ui" || fail "/ui/ ok is not all good"
gauge() { # CONF KIND OBJECT CHECK -> value
	grep -F "zkeep_attention_state{hostname=\"att-$1\",kind=\"$2\",object=\"$3\",check=\"$4\"} " \
		"$T/$1.metrics" | awk '{print $NF}'
}
[ "$(gauge warn pool tank capacity)" = 1 ] || fail "/metrics warn: capacity $(gauge warn pool tank capacity)"
[ "$(gauge warn backup nas1:tank/data age)" = 0 ] || fail "/metrics warn: backup age not 0"
[ "$(gauge crit backup nas1:tank/data age)" = 2 ] || fail "/metrics crit: backup age not 2"
[ "$(gauge ok pool tank capacity)" = 0 ] || fail "/metrics ok: capacity not 0"
grep -qx 'zkeep_attention_threshold{hostname="att-crit",name="backup_age_pull"} 28800' "$T/crit.metrics" ||
	fail "/metrics crit: no backup_age_pull threshold of 8 h"
grep -qx 'zkeep_attention_threshold{hostname="att-ok",name="pool_capacity_warning"} 90' "$T/ok.metrics" ||
	fail "/metrics ok: no pool_capacity_warning threshold of 90"
grep -qx '# TYPE zkeep_attention_state gauge' "$T/ok.metrics" || fail "no TYPE line for zkeep_attention_state"

# --- the shipped alert rules on that /metrics: 45 minutes of it, one
# scrape a minute (labelled as the shipped scrape config would), replayed
vm_start -retentionPeriod=1y
for c in warn crit ok; do
	/usr/bin/python3 - "$T/$c.metrics" "$now" >"$T/$c.prom" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
end = int(sys.argv[2])
for t in range(end - 45 * 60, end + 1, 60):
    for l in lines:
        m = re.match(r'([a-z_]+)\{(.*)\} (\S+)$', l.strip())
        print('%s{job="zfs",instance="h:8000",%s} %s %d' % (m[1], m[2], m[3], t * 1000))
PY
	vm_import "$T/$c.prom"
done
from=$(date -u -d "@$((now - 40 * 60))" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)
vmalert -loggerLevel=ERROR -rule="$DEPLOY/vmalert/zkeep-alerts.yml" -datasource.url="$VM" \
	-remoteWrite.url="$VM" -replay.timeFrom="$from" -replay.timeTo="$to" -replay.disableProgressBar \
	-replay.rulesDelay=0s -datasource.queryStep=1m >"$T/replay.log" 2>&1 || {
	cat "$T/replay.log"
	fail "vmalert replay failed"
}
curl -fsS "$VM/internal/force_flush" >/dev/null
vm_query 'max_over_time(ALERTS{alertstate="firing"}[1h])' "$now" |
	jq -r '.data.result[].metric | .hostname + " " + .alertname' | LC_ALL=C sort >"$T/alerts.txt"
printf '%s\n' "att-crit ZfsBackupStale" "att-crit ZfsPoolCapacityHigh" "att-warn ZfsPoolCapacityHigh" >"$T/want.txt"
diff -u "$T/want.txt" "$T/alerts.txt" || fail "fired alerts differ (- expected, + fired)"
echo "attention: status, /ui/, /metrics and the alert rules agree on ok, warning and critical"
