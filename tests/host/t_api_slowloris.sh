# zkeep api against slow clients (the security issue, item 3): 120
# connections from 127.0.0.2 dribble a request one byte a second. Those the
# per-IP cap (32) lets in must be closed by the server within
# request_deadline (3 s here) plus 2 s, though they are never idle; 50
# sequential /api/v1/health requests from 127.0.0.1 meanwhile all succeed;
# the daemon's thread count and RSS stay flat. Runs on this machine: the
# api answers /api/v1/health without ZFS (its collection fails, said in
# its log). Latency under attack is a bench/ matter, not timed here.
. "$(dirname "$0")/lib/api.sh"

printf '[global]\nstate_dir = %s\nlock_dir = %s\n[api]\nrequest_deadline = 3\n' "$d" "$d" >"$d/zkeep.conf"
# listening on every address: the attack comes from 127.0.0.2
api_start "0.0.0.0:$port"

python3 - "$port" "$pid" <<'PY' || fail "$(tail -n 5 "$d/api.log")"
import selectors, socket, sys, time, urllib.request

port, pid = int(sys.argv[1]), int(sys.argv[2])
DEADLINE = 3.0

def status(key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

threads0, rss0 = status("Threads"), status("VmRSS")
request = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100
sel = selectors.DefaultSelector()
conns = {}  # socket -> [connected at, closed at or None, bytes sent]
for _ in range(120):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    s.setblocking(False)
    conns[s] = [time.monotonic(), None, 0]
    sel.register(s, selectors.EVENT_READ)

def closed(s, now):
    if conns[s][1] is None:
        conns[s][1] = now
        sel.unregister(s)
        s.close()

ok = 0
start = time.monotonic()
next_byte = start
while time.monotonic() - start < DEADLINE + 6:
    now = time.monotonic()
    if now >= next_byte:  # one more byte on every live connection
        for s, c in list(conns.items()):
            if c[1] is None:
                try:
                    s.send(request[c[2] % len(request):][:1])
                    c[2] += 1
                except OSError:
                    closed(s, now)
        next_byte += 1.0
    for key, _ in sel.select(timeout=0.05):
        s = key.fileobj
        try:
            if not s.recv(4096):
                closed(s, time.monotonic())
        except OSError:
            closed(s, time.monotonic())
    if ok < 50:  # the well-behaved client, between the bytes
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as r:
            assert r.status == 200, r.status
            ok += 1

lived = [c[1] - c[0] for c in conns.values() if c[1] is not None]
alive = [c for c in conns.values() if c[1] is None]
held = [t for t in lived if t >= DEADLINE - 0.5]
print(f"connections: {len(conns)}, closed: {len(lived)}, still open: {len(alive)}, "
      f"held to the deadline: {len(held)}, longest: {max(lived, default=0):.1f} s; "
      f"health: {ok} of 50")
assert not alive, f"{len(alive)} slow connections still open after {DEADLINE + 6} s"
assert max(lived) <= DEADLINE + 2, f"a slow connection lived {max(lived):.1f} s"
# the deadline was exercised, not only the per-IP cap
assert len(held) >= 20, f"only {len(held)} connections were let in and held"
assert ok == 50, f"{ok} of 50 health requests"
threads1, rss1 = status("Threads"), status("VmRSS")
print(f"threads {threads0} -> {threads1}, RSS {rss0} -> {rss1} KiB")
assert threads1 == threads0, (threads0, threads1)
assert rss1 - rss0 < 8192, (rss0, rss1)
PY
