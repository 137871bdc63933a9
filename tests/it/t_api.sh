# zkeep api on real pools: every path of the OpenAPI document it serves,
# checked against that document and against zfs/zpool (api_check.py);
# auth off and on; 404/405/414/431 and HEAD; /metrics through promtool;
# and zfs missing (hidden in a private mount namespace): health and
# /metrics still answer, data endpoints 503 with a JSON error.
. ./lib.sh

PORT=18471
BASE=http://127.0.0.1:$PORT
work=$(mktemp -d /var/tmp/zk-api.XXXXXX)
on_exit rm -rf "$work"
pool_create zka
log_must zfs create zka/data
log_must zfs create "zka/data/with space"
log_must zfs create zka/data/snapshots
log_must zfs create -p zka/backups/h1
log_must zfs snapshot -r zka/data@autosnap_2026-01-21_14:00:00_hourly
log_must zfs snapshot zka/data@manual
log_must zpool sync zka

mkdir -p "$work/state" "$work/logs" "$work/locks"
for i in $(seq 1 1500); do echo "line $i"; done >"$work/logs/pull.log"
ln -s /etc/shadow "$work/logs/shadow.log"
cat >"$work/zkeep.conf" <<CONF
[global]
state_dir = $work/state
lock_dir = $work/locks
[dataset zka/data]
policy = low
discover_children = yes
[api]
log_dir = $work/logs
CONF
# a run record as zkeep pull writes it (lib/replicate.c write_record)
cat >"$work/state/pull-h1.json" <<'REC'
{"job": "h1", "kind": "pull", "source_host": "zfsbackup@client.example",
 "destination_host": "local", "start": 1795679000, "end": 1795679100, "result": "ok",
 "error": null, "datasets": [{"source": "tank/a", "target": "zka/backups/h1/tank/a",
 "result": "ok", "error": null, "bytes": 8192, "start": 1795679010, "end": 1795679070,
 "newest": {"name": "autosnap_2026-11-26_07:00:00_hourly", "guid": 1, "creation": 1795670000},
 "resume_token": null, "matched_by_name": false}]}
REC
# a FIFO among the run records: skipped with a warning, never waited on
mkfifo "$work/state/pull-fifo.json"
# a held lock, the way pull holds it (flock on the file, the PID in it); the
# holder is the process that holds the fd, so killing it frees the lock, and
# its output goes nowhere near run-inside's pipe
lockf="$work/locks/zfs-pull-backups-client.example.lock"
(
	exec 9>"$lockf"
	flock 9
	echo -n "$BASHPID" >"$lockf"
	exec sleep 900 # killed at exit; long enough for a slow TCG run
) >/dev/null 2>&1 &
holder=$!
on_exit kill "$holder"

api_pid=""
start_api() { # [env VAR=value ...] [prefix command ...]
	"$@" $ZK api --config "$work/zkeep.conf" --listen "127.0.0.1:$PORT" --interval 1 --debug \
		>"$work/api.log" 2>&1 &
	api_pid=$!
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "$BASE/api/v1/health" && return 0
		sleep 0.2
	done
	log_fail "zkeep api did not start: $(cat "$work/api.log")"
}
stop_api() {
	kill "$api_pid" 2>/dev/null
	wait "$api_pid" 2>/dev/null
	api_pid=""
}
on_exit 'stop_api'
# status of a request: code [curl args...]
code() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
wait_data() { # [curl args]
	for _ in $(seq 1 100); do
		[ "$(code "$@" "$BASE/api/v1/pools")" = 200 ] && return 0
		sleep 0.3
	done
	log_fail "no data after 30 s: $(cat "$work/body") $(tail -5 "$work/api.log")"
}
is_json_error() { # status
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["detail"], str)' \
		"$work/body" || log_fail "status $1 without a JSON error: $(cat "$work/body")"
}

# ---- zfs missing: hidden by bind mounts in a private mount namespace
zfs_bin=$(command -v zfs) zpool_bin=$(command -v zpool)
start_api unshare -m --propagation private sh -c \
	"mount --bind /dev/null $zfs_bin && mount --bind /dev/null $zpool_bin && exec \"\$@\"" sh
sleep 1.5
assert_eq "$(code "$BASE/api/v1/health")" 200 "health without zfs"
assert_eq "$(code "$BASE/api/v1/pools")" 503 "pools without zfs"
is_json_error 503
assert_contains "$(cat "$work/body")" "zfs" "the 503 names the failure"
assert_eq "$(code "$BASE/metrics")" 200 "metrics without zfs"
assert_contains "$(cat "$work/body")" 'zkeep_api_collect_success{hostname=' "collector metric"
grep -q '^zkeep_api_collect_success{.*} 0$' "$work/body" || log_fail "success is not 0: $(cat "$work/body")"
grep -q '^zfs_pool_health' "$work/body" && log_fail "pool metrics without a collection"
stop_api
grep -q 'collection failed' "$work/api.log" || log_fail "the failure is not logged: $(cat "$work/api.log")"

# ---- auth off: the whole contract
start_api env ZFS_API_CORS_ORIGINS="https://ha.example, https://grafana.example"
# a client that sends half a request and stalls (slowloris) is cut off
exec 7<>/dev/tcp/127.0.0.1/$PORT
printf 'GET /api/v1/pools HTTP/1.1\r\nHost: x\r\n' >&7
stalled_at=$SECONDS
wait_data
sleep 1.5 # one more collection, after the pool settled
log_must python3 ./api_check.py "$BASE" zka "$work"
grep -q '^zfs_pool_health{hostname="[^"]*",pool="zka",state="ONLINE"} 1$' "$work/metrics.txt" ||
	log_fail "zfs_pool_health of zka"
grep -q '^zfs_dataset_used_bytes{hostname="[^"]*",pool="zka",dataset=""} [0-9]*$' "$work/metrics.txt" ||
	log_fail "the root dataset's label"
grep -q '^zfs_dataset_used_bytes{hostname="[^"]*",pool="zka",dataset="data/with space"} ' "$work/metrics.txt" ||
	log_fail "a dataset with a space"
grep -q '^zfs_snapshot_compliance_percent{hostname="[^"]*",pool="zka",dataset="data",policy="low",interval="hourly"} 33$' "$work/metrics.txt" ||
	log_fail "compliance of zka/data"
grep -q '^zfs_backup_last_success_timestamp{.*job="h1".*} 1795679070$' "$work/metrics.txt" ||
	log_fail "backup last success"
grep -q "cannot read run record in '$work/state': cannot read 'pull-fifo.json': not a regular file" "$work/api.log" ||
	log_fail "the FIFO among the run records is not reported: $(grep -i fifo "$work/api.log")"
grep -q '^zfs_backup_lock_held{hostname="[^"]*",kind="pull",host="client.example"} 1$' "$work/metrics.txt" ||
	log_fail "held lock"
grep -q '^zkeep_api_collect_success{hostname="[^"]*"} 1$' "$work/metrics.txt" || log_fail "success 1"
# promtool: the only finding allowed is the seed's own name zfs_snapshot_count,
# kept for the existing dashboards; a parse error (exit 1) always fails
if [ -x /opt/zkeep/promtool ]; then
	out=$(/opt/zkeep/promtool check metrics <"$work/metrics.txt" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		[ $rc -eq 3 ] || log_fail "promtool exit $rc: $out"
		other=$(grep -v '^zfs_snapshot_count non-histogram and non-summary metrics should not have "_count" suffix$' <<<"$out")
		[ -z "$other" ] || log_fail "promtool: $out"
	fi
else
	log_note "promtool not in the VM: not checked"
fi
# gzip, as Prometheus and VictoriaMetrics ask for it: the same series,
# decoded by gzip itself (one member, CRC and length checked); HEAD gives
# the gzipped length; a client that does not ask gets text. The interval
# is 1 s, so values may move between two requests: series are compared.
series() { grep -v '^#' | sed 's/ [^ ]*$//' | sort; }
curl -s -D "$work/gz.h" -H 'Accept-Encoding: deflate, gzip;q=0.9' -o "$work/metrics.gz" "$BASE/metrics"
grep -qi '^content-encoding: gzip' "$work/gz.h" || log_fail "/metrics not gzipped: $(cat "$work/gz.h")"
grep -qi '^vary: accept-encoding' "$work/gz.h" || log_fail "no Vary: Accept-Encoding: $(cat "$work/gz.h")"
gzip -t "$work/metrics.gz" || log_fail "the gzipped /metrics does not decode"
curl -s -D "$work/plain.h" -H 'Accept-Encoding: gzip;q=0' -o "$work/metrics.plain" "$BASE/metrics"
grep -qi '^content-encoding' "$work/plain.h" && log_fail "gzip sent with gzip;q=0: $(cat "$work/plain.h")"
assert_eq "$(gzip -dc "$work/metrics.gz" | series)" "$(series <"$work/metrics.plain")" "gzipped /metrics has the same series"
[ "$(grep -c . "$work/metrics.plain")" -gt 50 ] || log_fail "too few lines to compare: $(head "$work/metrics.plain")"
curl -s -I -H 'Accept-Encoding: gzip' "$BASE/metrics" | tr -d '\r' >"$work/head.h"
grep -qi '^content-encoding: gzip$' "$work/head.h" || log_fail "HEAD with gzip: $(cat "$work/head.h")"
head_len=$(sed -n 's/^[Cc]ontent-[Ll]ength: //p' "$work/head.h")
# the same length as the GET's, but for the per-request lines' digits
[ "${head_len:-0}" -gt $(($(stat -c %s "$work/metrics.gz") - 64)) ] &&
	[ "$head_len" -lt $(($(stat -c %s "$work/metrics.gz") + 64)) ] ||
	log_fail "HEAD with gzip: Content-Length '$head_len', GET sent $(stat -c %s "$work/metrics.gz")"
# snapshots made and destroyed after the start show up (on OpenZFS >= 2.2
# through the snapshots_changed shortcut, which must not miss them)
snapcount() { # dataset (URL-encoded)
	code "$BASE/api/v1/snapshots/$1" >/dev/null
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot_count"])' "$work/body"
}
assert_eq "$(snapcount 'zka/data/with%20space')" 1 "snapshots of 'with space' at first"
log_must zfs snapshot "zka/data/with space@late"
log_must zfs destroy zka/data@manual
for _ in $(seq 1 30); do
	[ "$(snapcount 'zka/data/with%20space')" = 2 ] && [ "$(snapcount zka/data)" = 1 ] && break
	sleep 0.5
done
assert_eq "$(snapcount 'zka/data/with%20space')" 2 "a new snapshot seen"
assert_eq "$(snapcount zka/data)" 1 "a destroyed snapshot gone"
if zfs get snapshots_changed zka >/dev/null 2>&1; then
	# some collection skipped datasets whose snapshots did not change
	sed -n 's/.*snapshots re-read for \([0-9]*\) of \([0-9]*\) datasets.*/\1 \2/p' "$work/api.log" |
		awk '$1 < $2 { found = 1 } END { exit !found }' ||
		log_fail "no incremental listing on OpenZFS $FLAVOUR: $(grep snapshots "$work/api.log" | tail -3)"
fi

# HEAD, 404, 405, 414, header limit, trailing slash
assert_eq "$(curl -s -I -o "$work/head" -w '%{http_code}' "$BASE/api/v1/pools")" 200 "HEAD"
grep -qi '^content-type: application/json' "$work/head" || log_fail "HEAD content type"
assert_eq "$(code "$BASE/api/v1/pools/")" 200 "trailing slash"
assert_eq "$(code "$BASE/nope")" 404 "unknown path"
is_json_error 404
assert_eq "$(code "$BASE/api/v1/pools/zka/nope")" 404 "unknown pool subpath"
assert_eq "$(code -X POST "$BASE/api/v1/pools")" 405 "POST"
is_json_error 405
assert_eq "$(code -X DELETE "$BASE/api/v1/datasets/zka/data")" 405 "DELETE"
curl -s -D - -o /dev/null -X PUT "$BASE/metrics" | grep -qi '^allow: GET, HEAD' || log_fail "405 without Allow"
long=$(printf 'a%.0s' $(seq 1 5000))
assert_eq "$(code "$BASE/api/v1/datasets/$long")" 414 "long URL"
big=$(printf 'b%.0s' $(seq 1 40000))
c=$(code -H "X-Big: $big" "$BASE/api/v1/pools")
[ "$c" = 431 ] || [ "$c" = 413 ] || log_fail "a 40 KB header got $c"
assert_eq "$(code "$BASE/api/v1/pools/zka")" 200 "still serving after the big header"
# CORS: the configured origins only
curl -s -D "$work/hdr" -o /dev/null -H 'Origin: https://ha.example' "$BASE/api/v1/pools/zka"
grep -qi '^access-control-allow-origin: https://ha.example' "$work/hdr" || log_fail "CORS header missing"
curl -s -D "$work/hdr" -o /dev/null -H 'Origin: https://evil.example' "$BASE/api/v1/pools/zka"
grep -qi '^access-control-allow-origin' "$work/hdr" && log_fail "CORS allowed an unlisted origin"
assert_eq "$(code -X OPTIONS -H 'Origin: https://ha.example' "$BASE/api/v1/pools")" 204 "CORS preflight"
# the stalled connection was closed by the server's timeout (15 s)
while [ $((SECONDS - stalled_at)) -lt 18 ]; do sleep 1; done
timeout 5 cat <&7 >/dev/null
assert_eq $? 0 "a stalled connection still open after 18 s"
exec 7<&-
stop_api

# ---- auth on (the seed's planned env vars): 401 JSON without the key
ZKEY='k3y-Zq9-not-logged'
start_api env ZFS_API_AUTH_ENABLED=true ZFS_API_API_KEY="$ZKEY"
wait_data -H "X-API-Key: $ZKEY"
assert_eq "$(code "$BASE/api/v1/health")" 200 "health stays open"
for p in /api/v1/pools /metrics / /api/openapi.json /api/v1/backups/logs/pull.log /ui/; do
	assert_eq "$(code "$BASE$p")" 401 "$p without a key"
	is_json_error 401
	assert_eq "$(code -H 'X-API-Key: wrong-guess' "$BASE$p")" 401 "$p with a wrong key"
done
assert_eq "$(code -H "X-API-Key: ${ZKEY}x" "$BASE/api/v1/pools")" 401 "a longer key"
assert_eq "$(code -H "X-API-Key: $ZKEY" "$BASE/metrics")" 200 "metrics with the key"
log_must python3 ./api_check.py "$BASE" zka "$work" "$ZKEY"
# a newline in the path cannot forge a log line
code "$BASE/api/v1/x%0azkeep-api:%20forged%0d" >/dev/null
stop_api
grep -q '401 GET /api/v1/pools' "$work/api.log" || log_fail "401 not logged: $(cat "$work/api.log")"
grep -q '^zkeep-api: forged' "$work/api.log" && log_fail "a request forged a log line: $(grep -n forged "$work/api.log")"
grep -q 'x\\x0azkeep-api: forged\\x0d' "$work/api.log" || log_fail "the escaped path is not logged: $(grep -n forged "$work/api.log")"
grep -q -e "$ZKEY" -e wrong-guess "$work/api.log" && log_fail "a key was logged"

# ---- auth from the config's key file; the zfs-api name
echo "file-key-123" >"$work/api-key"
chmod 600 "$work/api-key"
echo "api_key_file = $work/api-key" >>"$work/zkeep.conf"
ln -s $ZK "$work/zfs-api"
"$work/zfs-api" --config "$work/zkeep.conf" --listen "127.0.0.1:$PORT" >"$work/api.log" 2>&1 &
api_pid=$!
wait_data -H "X-API-Key: file-key-123"
assert_eq "$(code "$BASE/api/v1/pools")" 401 "key file: no key"
stop_api
true

# ---- a host whose policies are still the old tools': the old report's
# cache names the managed datasets (ZFS_SNAPSHOT_REPORT_CACHE, or [api]
# report_cache), in its later form
printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$work/state" "$work/locks" >"$work/cache.conf"
printf '{"managed": [{"dataset": "zka/data", "policy": "low", "counts": {}}], "unmanaged": []}' \
	>"$work/report-cache.json"
ZFS_SNAPSHOT_REPORT_CACHE="$work/report-cache.json" $ZK api --config "$work/cache.conf" \
	--listen "127.0.0.1:$PORT" --interval 1 >"$work/api.log" 2>&1 &
api_pid=$!
wait_data
assert_eq "$(code "$BASE/api/v1/snapshots")" 200 "the report from the cache's policies"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e={x["dataset"]: x["policy"] for x in d["datasets"]}; assert e.get("zka/data") == "low", e' \
	"$work/body" || log_fail "the cache's dataset is not in the report: $(cat "$work/body")"
code "$BASE/metrics" >/dev/null
grep -q '^zfs_snapshot_retention{.*dataset="data",policy="low",interval="daily"} 7$' "$work/body" ||
	log_fail "no zfs_snapshot_* series from the cache: $(grep zfs_snapshot_retention "$work/body" | head -3)"
stop_api
grep -q "policies of 1 dataset(s) from the report cache" "$work/api.log" ||
	log_fail "the api did not say where its policies came from: $(cat "$work/api.log")"

# ---- the systemd unit: unprivileged and sandboxed, zfs still works
install -m 0755 $ZK /usr/bin/zkeep
on_exit rm -f /usr/bin/zkeep
id zkeep-api >/dev/null 2>&1 || log_must useradd --system --no-create-home zkeep-api
cp /opt/zkeep/deploy/systemd/zkeep-api.service /etc/systemd/system/
mkdir -p /etc/systemd/system/zkeep-api.service.d
printf '[Service]\nEnvironment=ZFS_API_PORT=%s\n' "$PORT" >/etc/systemd/system/zkeep-api.service.d/port.conf
on_exit 'systemctl stop zkeep-api; rm -rf /etc/systemd/system/zkeep-api.service*; systemctl daemon-reload'
log_must systemctl daemon-reload
log_must systemctl start zkeep-api
wait_data
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "zka" in [p["name"] for p in d["pools"]], d' \
	"$work/body" || log_fail "the unit's api does not see zka: $(cat "$work/body")"
assert_eq "$(ps -o uid= -p "$(systemctl show -p MainPID --value zkeep-api)" | tr -d ' ')" \
	"$(id -u zkeep-api)" "the unit's user"
