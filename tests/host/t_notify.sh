# Notifications of failed runs, against a real HTTP server on 127.0.0.1
# (tests/it/http_recorder.py) that records every request: a pull from
# an ssh port nobody listens on is a real failed run, no ZFS needed. What
# arrives: /start then /fail, POSTs, the summary as the body, the webhook's
# body the run record as written before notifying, its X-Zkeep-Signature
# recomputed here with Python's hmac; the on_failure hook with the record
# on stdin and ZKEEP_* in its environment, on_success not run; retries on
# 500 (and none on 404); a server that never answers: the run still ends
# within the 15 s deadline with its exit code; a hook that hangs is killed
# after hook_timeout; a secret file open to others is refused; the
# results in the record's notifications; `zkeep snapshot`'s [snapshot]
# healthcheck_url and the timer's record of it. The successful path:
# tests/it/t_notify.sh.
. "$(dirname "$0")/lib/common.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
rec=$top/tests/it/http_recorder.py
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$d"' EXIT
mkdir "$d/state" "$d/locks"
printf 'the webhook secret\n' >"$d/secret"
chmod 600 "$d/secret"

# serve NAME [flags]: a recorder logging to $d/NAME.log; sets $port
serve() {
	local name=$1
	shift
	rm -f "$d/$name.log" "$d/$name.port"
	python3 "$rec" "$d/$name.log" "$d/$name.port" "$@" &
	pids+=($!)
	for _ in $(seq 300); do [ -s "$d/$name.port" ] && break; sleep 0.1; done
	[ -s "$d/$name.port" ] || fail "the HTTP server $name did not start"
	port=$(cat "$d/$name.port")
	touch "$d/$name.log"
}

# conf PORT [extra lines]: a pull job that fails (ssh to port 1) and tells
# the server on PORT
conf() {
	local p=$1
	shift
	{
		printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$d/state" "$d/locks"
		printf '[pull client1]\nhost = 127.0.0.1\nport = 1\nuser = nobody\n'
		printf 'datasets = tank/a\ndestination = slowpool/backups\n'
		printf 'healthcheck_url = http://127.0.0.1:%s/ping/uuid-1\n' "$p"
		printf 'webhook_url = http://127.0.0.1:%s/hook\n' "$p"
		printf 'webhook_secret_file = %s\n' "$d/secret"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$d/c.conf"
}

# pull [keep]: runs the failing pull (after the last run's record is
# removed, unless keep); sets rc and secs (its wall time)
pull() {
	[ "${1:-}" = keep ] || rm -f "$d/state/pull-client1.json"
	local t0 t1
	t0=$(date +%s.%N)
	rc=0
	"$zk" pull --config "$d/c.conf" >"$d/out" 2>"$d/err" || rc=$?
	t1=$(date +%s.%N)
	secs=$(python3 -c "print(round($t1 - $t0, 1))")
	[ $rc -lt 126 ] || fail "zkeep pull died: exit $rc: $(cat "$d/err")"
}

# 1. a server that answers: every channel, every byte
serve ok
conf "$port" "on_failure = sh: cat >$d/stdin; env >$d/env; echo hook-said-no >&2; exit 3" \
	"on_success = /usr/bin/touch $d/success-ran"
pull
[ $rc = 1 ] || fail "a failed pull must exit 1, not $rc: $(cat "$d/err")"
[ ! -e "$d/success-ran" ] || fail "on_success ran after a failed run"
python3 - "$d/ok.log" "$d/state/pull-client1.json" "$d/stdin" "$d/env" "$d/secret" <<'PY' ||
import hashlib, hmac, json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
rec = json.load(open(sys.argv[2]))
stdin = open(sys.argv[3]).read()
env = dict(l.split("=", 1) for l in open(sys.argv[4]).read().splitlines() if "=" in l)
secret = open(sys.argv[5]).read().splitlines()[0].encode()
paths = [r["path"] for r in log]
assert sorted(paths) == ["/hook", "/ping/uuid-1/fail", "/ping/uuid-1/start"], paths
assert paths[0] == "/ping/uuid-1/start", paths
assert all(r["method"] == "POST" for r in log), log
by = {r["path"]: r for r in log}
start, fin, hook = by["/ping/uuid-1/start"], by["/ping/uuid-1/fail"], by["/hook"]
# the final ping only after /start was answered
assert fin["t"] >= start["t"], (start["t"], fin["t"])
assert start["body"] == "", start
body = fin["body"]
assert body.startswith("pull client1: pull from nobody@127.0.0.1:1 failed: "), body
assert "Connection refused" in body or "connect" in body, body
assert fin["headers"]["content-type"].startswith("text/plain"), fin["headers"]
# the webhook: the record as it was before notifying, signed
assert hook["headers"]["content-type"] == "application/json", hook["headers"]
want = "sha256=" + hmac.new(secret, hook["body"].encode(), hashlib.sha256).hexdigest()
assert hook["headers"]["x-zkeep-signature"] == want, (hook["headers"], want)
sent = json.loads(hook["body"])
assert "notifications" not in sent and "notification_totals" not in sent, sent
notes = rec.pop("notifications")
# the totals over the job's runs: this one is the first (no record before)
totals = rec.pop("notification_totals")
assert totals == {"healthcheck_start": {"sent": 1, "failed": 0},
                  "healthcheck": {"sent": 1, "failed": 0},
                  "webhook": {"sent": 1, "failed": 0},
                  "on_failure": {"sent": 0, "failed": 1}}, totals
assert sent == rec, (sent, rec)
assert sent["result"] == "failed" and sent["job"] == "client1", sent
# the hook: the same record on stdin, the facts in its environment
assert stdin == hook["body"], (stdin, hook["body"])
assert env["ZKEEP_JOB"] == "client1" and env["ZKEEP_KIND"] == "pull", env
assert env["ZKEEP_RESULT"] == "failed", env
assert env["ZKEEP_RECORD"] == sys.argv[2], env
assert env["ZKEEP_SUMMARY"] == body.rstrip("\n").split("\n")[0], env
assert env["ZKEEP_ERROR"] == rec["error"], env
assert env["ZKEEP_START"] == str(rec["start"]) and env["ZKEEP_END"] == str(rec["end"]), env
# the results, rewritten into the record
ch = {n["channel"]: n for n in notes}
assert [n["channel"] for n in notes] == ["healthcheck_start", "healthcheck", "webhook",
                                          "on_failure"], notes
for c in ("healthcheck_start", "healthcheck", "webhook"):
    assert ch[c]["ok"] is True and ch[c]["error"] is None and ch[c]["attempts"] == 1, ch[c]
    # /start may end before the run does; the others after it
    assert ch[c]["at"] >= (rec["start"] if c == "healthcheck_start" else rec["end"]), ch[c]
assert ch["on_failure"]["ok"] is False, ch
assert ch["on_failure"]["error"] == "exited 3: hook-said-no", ch
PY
	fail "channels of a failed run (above); zkeep said: $(cat "$d/err")"
grep -q "on_failure: .* failed: exited 3: hook-said-no" "$d/err" ||
	fail "the failed hook is not logged: $(cat "$d/err")"

# 2. 500 twice, then 200: tried again within the deadline; 404: not
serve flaky --fail 2
conf "$port"
pull
[ $rc = 1 ] || fail "retries changed the exit code: $rc"
python3 - "$d/flaky.log" "$d/state/pull-client1.json" <<'PY' || fail "retries on 500 (above)"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
paths = [r["path"] for r in log]
assert paths.count("/hook") == 3 and paths.count("/ping/uuid-1/fail") == 3, paths
hooks = [r for r in log if r["path"] == "/hook"]
assert len({r["body"] for r in hooks}) == 1, "the retries sent another body"
assert hooks[1]["t"] - hooks[0]["t"] >= 0.9, "retried without waiting"
ch = {n["channel"]: n for n in json.load(open(sys.argv[2]))["notifications"]}
assert ch["webhook"]["ok"] and ch["webhook"]["attempts"] == 3, ch
assert ch["healthcheck"]["ok"] and ch["healthcheck"]["attempts"] == 3, ch
# /start is never retried: one try, a 500, not ok
assert not ch["healthcheck_start"]["ok"] and ch["healthcheck_start"]["attempts"] == 1, ch
assert "HTTP 500" in ch["healthcheck_start"]["error"], ch
PY
serve gone --status 404
conf "$port"
pull
python3 - "$d/gone.log" "$d/state/pull-client1.json" <<'PY' || fail "no retry on 404 (above)"
import json, sys
paths = [json.loads(l)["path"] for l in open(sys.argv[1])]
assert paths.count("/hook") == 1, paths
ch = {n["channel"]: n for n in json.load(open(sys.argv[2]))["notifications"]}
assert not ch["webhook"]["ok"] and ch["webhook"]["attempts"] == 1, ch
assert "answered HTTP 404" in ch["webhook"]["error"], ch
PY

# 3. a server that never answers: the run ends within the deadline after
# the run (15 s; the /start ping's 10 s run inside it), exit code kept
serve hang --hang
conf "$port"
pull
[ $rc = 1 ] || fail "a hanging server changed the exit code: $rc"
python3 -c "import sys; s=float(sys.argv[1]); sys.exit(0 if 13 <= s <= 19 else 1)" "$secs" ||
	fail "with a server that never answers the run took $secs s (want about 15)"
python3 - "$d/hang.log" "$d/state/pull-client1.json" <<'PY' || fail "deadline (above)"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
paths = [r["path"] for r in log]
assert "/ping/uuid-1/start" in paths and "/ping/uuid-1/fail" in paths and "/hook" in paths, paths
start = [r["t"] for r in log if r["path"] == "/ping/uuid-1/start"][0]
fin = [r["t"] for r in log if r["path"] == "/ping/uuid-1/fail"][0]
# /fail waited for /start to time out (10 s)
assert fin - start >= 9, (start, fin)
ch = {n["channel"]: n for n in json.load(open(sys.argv[2]))["notifications"]}
for c in ("healthcheck_start", "healthcheck", "webhook"):
    assert not ch[c]["ok"] and "timed out" in ch[c]["error"], ch[c]
PY

# 4. a hook that hangs is killed after hook_timeout; an unsafe secret is
# refused (the webhook fails, the rest goes on)
serve slowhook
chmod 644 "$d/secret"
conf "$port" "on_failure = /bin/sleep 60" "hook_timeout = 1"
pull
[ $rc = 1 ] || fail "exit code $rc"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 8 else 1)" "$secs" ||
	fail "a hanging hook held the run $secs s (hook_timeout = 1)"
python3 - "$d/slowhook.log" "$d/state/pull-client1.json" "$d/secret" <<'PY' || fail "hook timeout (above)"
import json, sys
paths = [json.loads(l)["path"] for l in open(sys.argv[1])]
assert "/hook" not in paths and "/ping/uuid-1/fail" in paths, paths
ch = {n["channel"]: n for n in json.load(open(sys.argv[2]))["notifications"]}
assert ch["on_failure"]["error"] == "timed out after 1 s, killed", ch
assert not ch["webhook"]["ok"], ch
assert sys.argv[3] in ch["webhook"]["error"] and "chmod 600" in ch["webhook"]["error"], ch
assert ch["healthcheck"]["ok"], ch
PY
pgrep -f "/bin/sleep 60" >/dev/null && fail "the timed-out hook is still running"
chmod 600 "$d/secret"

# 5. the totals go on from run to run (the record carries them), and
# the webhook carries the last run's totals (as they were before notifying)
serve totals --status 404
conf "$port"
pull
pull keep
python3 - "$d/totals.log" "$d/state/pull-client1.json" <<'PY' || fail "totals over two runs (above)"
import json, sys
hooks = [json.loads(l) for l in open(sys.argv[1]) if '"/hook"' in l]
assert len(hooks) == 2, hooks
assert "notification_totals" not in json.loads(hooks[0]["body"]), hooks[0]
carried = json.loads(hooks[1]["body"])["notification_totals"]
assert carried["webhook"] == {"sent": 0, "failed": 1}, carried
t = json.load(open(sys.argv[2]))["notification_totals"]
assert t["webhook"] == {"sent": 0, "failed": 2}, t
assert t["healthcheck"] == {"sent": 0, "failed": 2}, t
assert t["healthcheck_start"] == {"sent": 0, "failed": 2}, t
assert set(t) == {"webhook", "healthcheck", "healthcheck_start"}, t
PY

# 6. zkeep snapshot's check ([snapshot] healthcheck_url): a managed
# dataset and no zfs here, a failed run: /start, then /fail with the
# command in the body (with nothing managed, nothing needs zfs: exit 0)
serve snap
printf '[global]\nstate_dir = %s\n[snapshot]\nhealthcheck_url = http://127.0.0.1:%s/ping/host-1/\n[dataset tank/data]\npolicy = high\n' \
	"$d/state" "$port" >"$d/s.conf"
rc=0
"$zk" snapshot --type hourly --config "$d/s.conf" >"$d/out" 2>"$d/err" || rc=$?
[ $rc = 1 ] || fail "zkeep snapshot without zfs: exit $rc: $(cat "$d/err")"
python3 - "$d/snap.log" <<'PY' || fail "snapshot's ping (above)"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
assert [r["path"] for r in log] == ["/ping/host-1/start", "/ping/host-1/fail"], log
assert log[1]["body"] == "snapshot hourly: failed\n", log[1]
PY
# what the check was told, kept in the timer's record for /metrics and
# zkeep status (timer-snapshot-hourly.json), totals carried run to run
"$zk" snapshot --type hourly --config "$d/s.conf" >/dev/null 2>&1 || true
python3 - "$d/state/timer-snapshot-hourly.json" <<'PY' || fail "the snapshot timer's record (above)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "snapshot" and r["job"] == "snapshot-hourly", r
assert r["result"] == "failed" and r["datasets"] == [], r
assert [(n["channel"], n["ok"]) for n in r["notifications"]] == [
    ("healthcheck_start", True), ("healthcheck", True)], r
assert r["notification_totals"] == {
    c: {"sent": 2, "failed": 0} for c in ("healthcheck_start", "healthcheck")}, r
PY
[ ! -e "$d/state/pull-snapshot-hourly.json" ] || fail "a timer's record under a job's name"
# --dry-run tells no one
: >"$d/snap.log"
"$zk" snapshot --type hourly --dry-run --config "$d/s.conf" >/dev/null 2>&1 || true
[ ! -s "$d/snap.log" ] || fail "a dry run pinged: $(cat "$d/snap.log")"
echo "ok"
