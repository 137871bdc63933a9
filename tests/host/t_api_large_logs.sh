# zkeep api's /api/v1/backups/logs/{file} on large logs (the security
# issue, item 3): a 1 GiB log of 100-byte lines and a 1 GiB log that is one
# line are served (the last lines, at most 1 MiB of them, flagged
# `truncated` when cut), with total_lines right, and the daemon's peak RSS
# grows by less than 16 MiB for both (it read a whole log into memory, and
# refused one over 64 MiB with 413). Log requests run one at a time: six
# sent at once while the first counts a fresh 1 GiB log get either the
# log or 503 {"detail":"busy"} with Retry-After: 1, and at least one gets
# each. Runs on this machine: the log endpoint
# needs no ZFS. The bound is the product build's (ASan's quarantine adds
# about 20 MiB: tests/run runs host tests with the first build).
. "$(dirname "$0")/lib/api.sh"

mkdir "$d/logs"
{ yes "$(printf "%099d" 7)" || true; } | head -c $((1 << 30)) >"$d/logs/lines.log" # yes ends by SIGPIPE
head -c $((1 << 30)) /dev/zero | tr '\0' a >"$d/logs/one.log"
printf '[global]\nstate_dir = %s\nlock_dir = %s\n[api]\nlog_dir = %s/logs\n' "$d" "$d" "$d" >"$d/zkeep.conf"
api_start "127.0.0.1:$port"

python3 - "$port" "$pid" "$d/logs" <<'PY' || fail "$(tail -n 5 "$d/api.log")"
import json, sys, threading, urllib.error, urllib.request

port, pid, logs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def status(key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

def get(name, lines):
    url = f"http://127.0.0.1:{port}/api/v1/backups/logs/{name}?lines={lines}"
    with urllib.request.urlopen(url, timeout=120) as r:
        assert r.status == 200, r.status
        return json.load(r)

hwm0 = status("VmHWM")
size = 1 << 30

# six at once; the first to arrive counts the log's 1 GiB (about 10^7
# lines: a tenth of a second or more), the others find it busy. On a
# loaded machine the threads may all arrive after the count: a burst of
# 200s only is tried again (at most five bursts), every answer is checked
def burst():
    answers = []
    go = threading.Barrier(6)
    def fetch():
        go.wait()
        url = f"http://127.0.0.1:{port}/api/v1/backups/logs/lines.log?lines=10"
        try:
            with urllib.request.urlopen(url, timeout=120) as r:
                answers.append((r.status, r.headers.get("Retry-After"), json.load(r)))
        except urllib.error.HTTPError as h:
            answers.append((h.code, h.headers.get("Retry-After"), json.load(h)))
    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return answers

for attempt in range(5):
    answers = burst()
    codes = sorted(a[0] for a in answers)
    assert len(answers) == 6 and set(codes) <= {200, 503} and 200 in codes, codes
    for code, retry, body in answers:
        if code == 503:
            assert retry == "1" and body == {"detail": "busy"}, (retry, body)
        else:
            assert body["total_lines"] == size // 100 + 1, body["total_lines"]
    if 503 in codes:
        break
assert set(codes) == {200, 503}, f"no request found the log busy in 5 bursts: {codes}"
print(f"six log requests at once: {codes}")
t = get("lines.log", 1000)
assert t["total_lines"] == size // 100 + 1, t["total_lines"]
assert t["lines_returned"] == 1000 and not t["truncated"], (t["lines_returned"], t["truncated"])
last = t["content"].split("\n")
assert len(last) == 1000 and last[0] == "0" * 98 + "7" and last[-1] == "0" * 24, last[-1]
t = get("one.log", 10)
assert t["total_lines"] == 1 and t["lines_returned"] == 1 and t["truncated"], t["total_lines"]
assert t["content"] == "a" * (1 << 20), len(t["content"])
# appended: counted on from where the count stopped
with open(f"{logs}/lines.log", "a") as f:
    f.write("\nthe end\n")
t = get("lines.log", 2)
assert t["total_lines"] == size // 100 + 2, t["total_lines"]
assert t["content"].endswith("\nthe end"), t["content"][-30:]
hwm1 = status("VmHWM")
print(f"peak RSS {hwm0} -> {hwm1} KiB")
assert hwm1 - hwm0 < 16 * 1024, (hwm0, hwm1)
PY
