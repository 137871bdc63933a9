# zkeep-it: flavour 2.3
# Notifications of a successful pull over real ssh into a real pool, to a
# real HTTP server in the VM that records every request
# (http_recorder.py): /start then the check's URL itself (not /fail) with
# the summary, the webhook's body the run record before notifying, its
# signature recomputed with Python's hmac, on_success run (argv without a
# shell: its words arrive as given) with the record on stdin and ZKEEP_* in
# its environment, on_failure not run; the results in the record, in
# /metrics and (a failing channel) in `zkeep status`, the snapshot and
# prune timers' checks too. Failures, retries and
# the deadline: tests/host/t_notify.sh.
. ./lib.sh

pool_create zns
pool_create znd
log_must zfs create zns/a
log_must zfs snapshot zns/a@s1
log_must zfs allow zkb mount,send,hold,snapshot,destroy,release,bookmark zns
st=$(mktemp -d)
on_exit rm -rf "$st"
printf 'the webhook secret\n' >"$st/secret"
chmod 600 "$st/secret"

python3 ./http_recorder.py "$st/http.log" "$st/port" &
srv=$!
on_exit kill "$srv"
for _ in $(seq 300); do [ -s "$st/port" ] && break; sleep 0.1; done
[ -s "$st/port" ] || log_fail "the HTTP server did not start"
port=$(cat "$st/port")
# the hook: what it was given, as JSON
cat >"$st/hook.py" <<'PY'
import json, os, sys
out = {"argv": sys.argv[1:], "stdin": sys.stdin.read(),
       "env": {k: v for k, v in os.environ.items() if k.startswith("ZKEEP_")}}
json.dump(out, open(sys.argv[1], "w"))
PY
cat >"$st/zkeep.conf" <<CONF
[global]
state_dir = $st
lock_dir = $st
[pull c1]
host = localhost
user = zkb
datasets = zns/a
destination = znd
healthcheck_url = http://127.0.0.1:$port/ping/c1
webhook_url = http://127.0.0.1:$port/hook
webhook_secret_file = $st/secret
on_success = /usr/bin/python3 $st/hook.py $st/hook.json 'two words' \$HOME
on_failure = /usr/bin/touch $st/failure-ran
CONF
out=$(log_must $ZK pull --config "$st/zkeep.conf")
assert_contains "$out" "Full send of zns/a@s1 into znd/c1/zns/a"
[ ! -e "$st/failure-ran" ] || log_fail "on_failure ran after a good run"
python3 - "$st/http.log" "$st/pull-c1.json" "$st/hook.json" "$st/secret" <<'PY' || log_fail "notifications of a good pull (above)"
import hashlib, hmac, json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
rec = json.load(open(sys.argv[2]))
hook = json.load(open(sys.argv[3]))
secret = open(sys.argv[4]).read().splitlines()[0].encode()
paths = [r["path"] for r in log]
assert paths[0] == "/ping/c1/start" and sorted(paths) == ["/hook", "/ping/c1", "/ping/c1/start"], paths
assert all(r["method"] == "POST" for r in log), log
by = {r["path"]: r for r in log}
body = by["/ping/c1"]["body"]
assert body == "pull c1: Done: 1 dataset(s) replicated, 0 up to date, 0 skipped\n", body
wh = by["/hook"]
want = "sha256=" + hmac.new(secret, wh["body"].encode(), hashlib.sha256).hexdigest()
assert wh["headers"]["x-zkeep-signature"] == want, (wh["headers"], want)
assert wh["headers"]["content-type"] == "application/json", wh["headers"]
sent = json.loads(wh["body"])
notes = rec.pop("notifications")
# the totals over the job's runs, this first one's added after notifying:
# not in the webhook's body (no run before), each channel once in the file
assert rec.pop("notification_totals") == {
    c: {"sent": 1, "failed": 0}
    for c in ("healthcheck_start", "healthcheck", "webhook", "on_success")}, rec
assert sent == rec and sent["result"] == "ok", (sent, rec)
assert [d["result"] for d in sent["datasets"]] == ["ok"], sent
# the hook: its argv as written (no shell: $HOME stays), the record on stdin
assert hook["argv"] == [sys.argv[3], "two words", "$HOME"], hook["argv"]
assert hook["stdin"] == wh["body"], hook["stdin"]
env = hook["env"]
assert env["ZKEEP_JOB"] == "c1" and env["ZKEEP_KIND"] == "pull" and env["ZKEEP_RESULT"] == "ok", env
assert env["ZKEEP_DATASETS"] == "1" and env["ZKEEP_FAILED"] == "0", env
assert env["ZKEEP_RECORD"] == sys.argv[2], env
assert [(n["channel"], n["ok"], n["attempts"]) for n in notes] == [
    ("healthcheck_start", True, 1), ("healthcheck", True, 1), ("webhook", True, 1),
    ("on_success", True, 1)], notes
PY

# zkeep snapshot and prune ([snapshot] healthcheck_url), successful runs:
# /start, then the check's URL with the counts
cat >>"$st/zkeep.conf" <<CONF
[snapshot]
healthcheck_url = http://127.0.0.1:$port/ping/host
[policy quick]
hourly = 2
daily = 0
monthly = 0
yearly = 0
[dataset zns/a]
policy = quick
CONF
: >"$st/http.log"
log_must $ZK snapshot --type hourly --config "$st/zkeep.conf" >/dev/null
log_must $ZK prune --config "$st/zkeep.conf" >/dev/null
python3 - "$st/http.log" <<'PY' || log_fail "snapshot and prune pings (above)"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
assert [r["path"] for r in log] == ["/ping/host/start", "/ping/host"] * 2, log
assert log[1]["body"] == "snapshot hourly: ok, 1 done, 0 skipped, 0 failed\n", log[1]
assert log[3]["body"].startswith("prune: ok"), log[3]
PY

# a failing channel in status: the server gone, the next run cannot
# deliver, and status names the channel (its exit code is the backups')
kill "$srv"
wait "$srv" 2>/dev/null
out=$(log_must $ZK pull --config "$st/zkeep.conf")
assert_contains "$out" "webhook: not sent"
status=$($ZK status --config "$st/zkeep.conf" 2>&1)
assert_contains "$status" "notification webhook of pull c1 failed"
assert_contains "$status" "Couldn't connect"
json=$($ZK status --json --config "$st/zkeep.conf" 2>/dev/null)
python3 - "$json" <<'PY' || log_fail "status --json notifications"
import json, sys
n = {x["channel"]: x for x in json.loads(sys.argv[1])["notifications"]}
assert n["webhook"]["ok"] is False and n["webhook"]["job"] == "c1", n
assert n["webhook"]["attempts"] >= 2, n
assert n["on_success"]["ok"] is True, n
# the snapshot and prune timers' checks, from their records (timer-*.json)
t = {(x["job"], x["kind"], x["channel"]): x["ok"]
     for x in json.loads(sys.argv[1])["notifications"] if x["job"] != "c1"}
assert t == {(j, k, c): True for j, k in (("snapshot-hourly", "snapshot"), ("prune", "prune"))
             for c in ("healthcheck_start", "healthcheck")}, t
PY
