# --log=stderr|json|syslog on real commands (zkeep-*(1)): every command
# takes it and it wins over the command's default sink, the seed style of
# a seed tool's name included. json: every line on stderr is one JSON
# object (ts, level, ident, msg), stdout keeps only the command's output;
# syslog: nothing on stderr, each line one datagram at facility daemon,
# tagged with the program's name and pid; the gate's decision follows
# --log while the seed's local0.crit line still goes to syslog; any other
# sink is a usage error (exit 2).
#
# The commands run against a fake zfs and zpool serving the OpenZFS 2.3
# fixtures (a tmpfs over /usr/local/sbin, first in zkeep's fixed PATH),
# with the test's own /dev/log (lib/devlog.sh), in one private mount
# namespace: root. Runs on this machine.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/fakezpool.sh"
. "$(dirname "$0")/lib/devlog.sh"

[ "$(id -u)" = 0 ] || fail "needs root, for unshare -m (a private /dev/log)"
fx=$top/tests/fixtures/2.3
mkdir -p "$d/sbin" "$d/bin"
cat >"$d/sbin/zfs" <<SH
#!/bin/sh
case "\$*" in
version) cat "$fx/version.out" ;;
list\ -Hp\ -t\ filesystem,volume,snapshot*) cat "$fx/zfs-list-changed.out" ;;
# snapshot's names listing: a missing root fails it as zfs does, then the
# whole host is listed
list\ -H\ -o\ name\ -s\ createtxg\ *fixt/gone*)
	echo "cannot open 'fixt/gone': dataset does not exist" >&2; exit 1 ;;
list\ -H\ -o\ name\ -s\ createtxg\ -t\ filesystem,volume,snapshot\ -r*) cut -f1 "$fx/zfs-list-changed.out" | grep -v "#" ;;
get\ *) cat "$fx/zfs-get-all.out" ;;
*) echo "fake zfs: \$*" >&2; exit 1 ;;
esac
SH
fake_zpool "$d/sbin/zpool"
chmod 755 "$d/sbin/zfs"
for n in zfs-snapshot zfs-pull-backups; do ln -s "$zk" "$d/bin/$n"; done
cat >"$d/c.conf" <<'CONF'
[dataset fixt/data]
policy = critical
discover_children = yes
[dataset fixt/gone]
policy = high
CONF

cat >"$d/check.py" <<'EOF_PY'
import json, os, re, socket, subprocess, sys

zk, d = sys.argv[1], sys.argv[2]
conf = os.path.join(d, "c.conf")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("/dev/log")
sock.setblocking(False)
bad = []

def run(argv, line=None):
    """argv's exit code, stdout, stderr and the datagrams it sent."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "ZKEEP_NOW": "1795680000",
           "SSH_CLIENT": "192.0.2.7 50022 22"}
    if line is not None:
        env["SSH_ORIGINAL_COMMAND"] = line
    p = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    got = []
    while True:
        try:
            got.append(sock.recv(65536).decode())
        except BlockingIOError:
            return p.returncode, p.stdout.decode(), p.stderr.decode(), got

def check(what, cond, detail):
    if not cond:
        bad.append(f"{what}: {detail}")

def json_lines(what, err, ident):
    """err's lines, each a JSON object of zkeep's log with this ident."""
    out = []
    for l in err.splitlines():
        try:
            j = json.loads(l)
        except ValueError:
            check(what, False, f"not JSON: {l!r}")
            continue
        check(what, list(j) == ["ts", "level", "ident", "msg"], f"members {list(j)}")
        check(what, re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", j.get("ts", "")),
              f"ts {j.get('ts')!r}")
        check(what, j.get("level") in ("error", "warn", "info", "debug"), f"level in {l}")
        check(what, j.get("ident") == ident, f"ident in {l}")
        out.append(j)
    return out

STAMP = r"[A-Z][a-z]{2} [ 123][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}"
def syslog_msgs(what, log, ident):
    """The texts of log's datagrams, each at facility daemon from ident[pid]."""
    out = []
    for l in log:
        m = re.fullmatch(rf"<(\d+)>{STAMP} {re.escape(ident)}\[\d+\]: (.*)", l, re.S)
        check(what, m and int(m.group(1)) // 8 == 3, f"datagram {l!r}")
        if m:
            out.append((int(m.group(1)) % 8, m.group(2)))
    return out

# zkeep report: stdout the table, stderr the config's warning as JSON
what = "report --log=json"
rc, out, err, log = run([zk, "report", "--config", conf, "--log=json"])
check(what, rc == 0 and out.startswith("DATASET") and not log, f"exit {rc}, {out!r}, {log}")
lines = json_lines(what, err, "zkeep")
check(what, any(j["level"] == "warn" and "'fixt/gone'" in j["msg"] for j in lines), err)

# the seed's zfs-snapshot: its "* " lines on stdout become JSON on stderr
seed = os.path.join(d, "bin", "zfs-snapshot")
what = "zfs-snapshot --log json"
rc, out, err, log = run([seed, "--type", "hourly", "--dry-run", "--config", conf, "--log", "json"])
check(what, rc == 1 and out == "" and not log, f"exit {rc}, stdout {out!r}, {log}")
lines = json_lines(what, err, "zfs-snapshot")
check(what, any(j["level"] == "info" and j["msg"].startswith("Creating hourly snapshots")
                for j in lines), err)
check(what, any(j["level"] == "error" and "'fixt/gone'" in j["msg"] for j in lines), err)

# and to syslog: nothing on stdout or stderr, the same lines as datagrams
what = "zfs-snapshot --log=syslog"
rc, out, err, log = run([seed, "--type", "hourly", "--dry-run", "--config", conf, "--log=syslog"])
check(what, rc == 1 and out == "" and err == "", f"exit {rc}, {out!r}, {err!r}")
msgs = syslog_msgs(what, log, "zfs-snapshot")
check(what, any(p == 6 and m.startswith("Summary: 3 created") for p, m in msgs), msgs)
check(what, any(p == 3 and "'fixt/gone'" in m for p, m in msgs), msgs)  # LOG_ERR

# status: its JSON on stdout untouched, its warnings as JSON lines (its
# exit code, what needs attention, is not this test's)
what = "status --json --log=json"
rc, out, err, log = run([zk, "status", "--json", "--config", conf, "--log=json"])
check(what, json.loads(out)["hostname"] and not log, f"exit {rc}, {log}")
check(what, any("zpool iostat" in j["msg"] for j in json_lines(what, err, "zkeep")), err)

# the api's collection once, to syslog under its name
what = "api --metrics-once --log=syslog"
rc, out, err, log = run([zk, "api", "--metrics-once", "--config", conf, "--log=syslog"])
check(what, rc == 0 and "zkeep_" in out and err == "", f"exit {rc}, {err!r}")
check(what, any(p == 4 and "zpool iostat" in m for p, m in syslog_msgs(what, log, "zkeep-api")),
      log)

# pull and push parse it too (the config error is a log line)
for c in ("pull", "push"):
    what = f"{c} --log=json"
    rc, out, err, log = run([zk, c, "--config", "/nonexistent", "--log=json"])
    check(what, rc == 2 and out == "", f"exit {rc}")
    check(what, any("/nonexistent" in j["msg"] for j in json_lines(what, err, "zkeep")), err)

# stderr under a seed name: zkeep's own lines where the seed's style was
what = "zfs-snapshot --log=stderr"
rc, out, err, log = run([seed, "--type", "hourly", "--dry-run", "--config", conf, "--log=stderr"])
check(what, out == "" and "zfs-snapshot: Creating hourly snapshots" in err
      and "zfs-snapshot: error: cannot snapshot 'fixt/gone'" in err, f"{out!r} {err!r}")

# the gate: its decision as a JSON line; the seed's line still to syslog
what = "gate --log=json"
rc, out, err, log = run([zk, "gate", "--compat", "seed", "--prefix", "fastpool/x", "--log=json"],
                        "zfs destroy -r fastpool")
lines = err.splitlines()
check(what, rc == 1 and lines[-1:] == ["Command not permitted"], f"exit {rc}, {err!r}")
j = json_lines(what, "\n".join(lines[:-1]), "zkeep-gate")
check(what, len(j) == 1 and j[0]["level"] == "warn"
      and j[0]["msg"].startswith('refused from 192.0.2.7: "zfs destroy -r fastpool"'), j)
check(what, len(log) == 1 and log[0].startswith("<130>")
      and "BLOCKED non-whitelisted command" in log[0], log)

# compat is a seed name's default, not a choice; nor is anything else
for v in ("compat", "file", ""):
    for argv in ([zk, "report", f"--log={v}"], [zk, "gate", "--log", v]):
        rc, out, err, log = run(argv)
        check(f"{argv[1:]}", rc == 2 and "--log takes stderr, json or syslog" in err,
              f"exit {rc}, {err!r}")

for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF_PY

# zkeep finds zfs and zpool in /usr/local/sbin first (lib/proc.c)
private_dev "$d" sh -c 'mount -t tmpfs zkeep-test-sbin /usr/local/sbin &&
	cp "$1/sbin/zfs" "$1/sbin/zpool" /usr/local/sbin/ &&
	exec python3 "$1/check.py" "$2" "$1"' sh "$d" "$zk" || fail "--log (above)"
echo "--log: stderr, json and syslog on real commands, over each command's default"
