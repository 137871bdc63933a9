# The lock on switch-over day, with the real binary under the seed's name
# and a real second process that follows the seed's lock protocol
# (tests/helpers/seed/zfs-pull-backups, Python): while the seed's job holds
# the lock, zfs-pull-backups says so on stderr, exits 0, leaves the seed's
# file as it was and notes the skip in its run record; while zkeep holds
# it (a pull stuck on an ssh server that never answers), the seed's job
# finds zkeep's live PID and stays out; SIGTERM ends zkeep's pull and
# removes its file. Runs on this machine.
. "$(dirname "$0")/lib/common.sh"
ln -s "$zk" "$d/zfs-pull-backups"
mkdir "$d/locks" "$d/state"
printf '[global]\nlock_dir = %s\nstate_dir = %s\n[compat]\npull_user = zfsbackups
pull_destination = slowpool/encryptedbackups\n' "$d/locks" "$d/state" >"$d/c.conf"
seed=$top/tests/helpers/seed/zfs-pull-backups
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$d"' EXIT

# 1. the seed's job holds it
lock=$d/locks/zfs-pull-backups-client1.lock
"$seed" "$lock" 60 >"$d/seed.out" &
pids+=($!)
spid=$!
for _ in $(seq 100); do [ -s "$d/seed.out" ] && break; sleep 0.1; done
[ "$(cat "$d/seed.out")" = took ] || fail "the seed's job did not take the lock: $(cat "$d/seed.out")"
rc=0
"$d/zfs-pull-backups" --host client1 --datasets tank/a --config "$d/c.conf" >"$d/out" 2>"$d/err" || rc=$?
[ $rc = 0 ] || fail "lock held by the seed's job: exit $rc: $(cat "$d/out" "$d/err")"
grep -q "already running (PID $spid) (the seed's job)" "$d/err" ||
	fail "no message on stderr: $(cat "$d/err")"
[ "$(cat "$lock")" = "$spid" ] || fail "the seed's lock file was changed: $(cat "$lock")"
python3 - "$d/state/pull-client1.json" "$spid" <<'PY' || fail "run record: $(cat "$d/state/pull-client1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
h = r["lock_held"]
assert h["pid"] == int(sys.argv[2]) and h["by"] == "seed" and h["at"] > 0, h
assert r["job"] == "client1" and r["kind"] == "pull" and r["datasets"] == [], r
PY
kill "$spid"
wait "$spid" 2>/dev/null || true
[ ! -e "$lock" ] || fail "the seed's job left its lock file"

# 2. zkeep holds it: its ssh waits on a server that accepts and never
# answers
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
open(sys.argv[2], "w").write("listening")
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$port" "$d/listening" &
pids+=($!)
# a loaded machine starts python slowly: zkeep must find the server there
for _ in $(seq 300); do [ -s "$d/listening" ] && break; sleep 0.1; done
[ -s "$d/listening" ] || fail "the silent ssh server did not start"
lock=$d/locks/zfs-pull-backups-127.0.0.1.lock
"$d/zfs-pull-backups" --host 127.0.0.1 --port "$port" --datasets tank/a --config "$d/c.conf" \
	>"$d/out" 2>"$d/err" &
pids+=($!)
zpid=$!
for _ in $(seq 100); do [ -s "$lock" ] && break; sleep 0.1; done
[ "$(cat "$lock" 2>/dev/null)" = "$zpid" ] || fail "zkeep's lock file: '$(cat "$lock" 2>/dev/null)', want $zpid"
out=$("$seed" "$lock" 0 2>&1) || fail "the seed's job failed: $out"
grep -qx "held $zpid" <<<"$out" || fail "the seed's job did not see zkeep's PID: $out"
[ "$(cat "$lock")" = "$zpid" ] || fail "the seed's job changed zkeep's lock file: $(cat "$lock")"
kill -TERM "$zpid"
rc=0
wait "$zpid" || rc=$?
[ $rc = 1 ] || fail "SIGTERM: exit $rc: $(cat "$d/out" "$d/err")"
[ ! -e "$lock" ] || fail "zkeep left its lock file after SIGTERM"
echo "seed lock: a seed job's lock is honoured and left alone; the seed sees zkeep's; SIGTERM cleans up"
