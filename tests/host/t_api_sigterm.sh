# zkeep api ends promptly on SIGTERM in every state (the security issue,
# item 4): while its collection waits on a zfs that never answers (a
# stand-in for a suspended pool: in a mount namespace of its own, a
# tmpfs over /usr/local/sbin, first in zkeep's fixed PATH, holds a `zfs`
# and a `zpool` that sleep; the collection's own timeout is minutes), and
# while it holds
# slow clients' connections with a FIFO among its run records and logs.
# Each time: exit status 0 within 3 s of the signal. SIGHUP starts a
# collection at once. Runs on this machine: no ZFS is needed for this.
. "$(dirname "$0")/lib/api.sh"

# exit_within SECONDS: sends SIGTERM to $pid, fails unless it exits 0 in time
exit_within() {
	local t0 rc=0
	t0=$(date +%s%N)
	kill -TERM "$pid"
	for _ in $(seq 1 $(($1 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "zkeep api still running $1 s after SIGTERM: $(tail -n 5 "$d/api.log")"
	wait "$pid" || rc=$?
	pid=""
	[ $rc = 0 ] || fail "zkeep api exited $rc on SIGTERM: $(tail -n 5 "$d/api.log")"
	echo "exited $(( ($(date +%s%N) - t0) / 1000000 )) ms after SIGTERM"
}

# 1. a collection stuck in zfs
mkdir "$d/bin" "$d/logs"
printf '#!/bin/sh\nexec sleep 3600\n' >"$d/bin/zfs"
cp "$d/bin/zfs" "$d/bin/zpool"
chmod 755 "$d/bin/zfs" "$d/bin/zpool"
printf '[global]\nstate_dir = %s\nlock_dir = %s\n[api]\nlog_dir = %s/logs\n' "$d" "$d" "$d" >"$d/zkeep.conf"
unshare --mount --propagation private sh -c 'mount -t tmpfs zk-hung /usr/local/sbin &&
	cp "$1"/zfs "$1"/zpool /usr/local/sbin/ && shift && exec "$@"' sh "$d/bin" \
	"$zk" api --config "$d/zkeep.conf" --listen "127.0.0.1:$port" --interval 3600 >"$d/api.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
	hung=$(pgrep -P "$pid" -x sleep || true)
	[ -n "$hung" ] && break
	sleep 0.1
done
[ -n "$hung" ] || fail "the collection did not start its zfs: $(cat "$d/api.log")"
curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null || fail "no health answer during the collection"
exit_within 3
grep -q 'exiting during a collection' "$d/api.log" || fail "no word of the unfinished collection: $(cat "$d/api.log")"
kill $hung 2>/dev/null || true

# 2. slow clients and FIFOs in place of a run record and a log
mkfifo "$d/pull-fifo.json" "$d/logs/fifo.log"
api_start "127.0.0.1:$port"
kill -HUP "$pid"
for _ in $(seq 1 50); do
	grep -q 'SIGHUP: collecting now' "$d/api.log" && [ "$(grep -c 'collection failed' "$d/api.log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c 'collection failed' "$d/api.log")" -ge 2 ] || fail "SIGHUP did not collect again: $(cat "$d/api.log")"
curl -s "http://127.0.0.1:$port/api/v1/backups/logs/fifo.log" >"$d/fifo.out" || true
grep -q detail "$d/fifo.out" || fail "the FIFO log: $(cat "$d/fifo.out")"
python3 - "$port" <<'PY' &
import socket, sys, time
conns = []
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.send(b"GET /api/v1/health HTTP/1.1\r\nHo")
    conns.append(s)
time.sleep(30)
PY
slow=$!
sleep 1
exit_within 3
kill "$slow" 2>/dev/null || true
