# zkeep gate --compat seed on this machine, as the seed's offsite host's
# forced command behaved for its log monitoring: a refused command is one
# syslog datagram at local0.crit, tagged with the user's name and no pid,
# worded as the seed's `logger -p local0.crit` line (compared with what
# logger itself sends), one line however many the command had; then
# "Command not permitted" on stderr and exit 1. zkeep's own authpriv line
# comes beside it; an allowed command, or --dry-run, gives no seed line.
# Without --prefix and --any-dataset the gate refuses to start (exit 2).
#
# syslog(3) writes to /dev/log, which a test must not take from the host:
# each run is in a private mount namespace (unshare -m, so root) with a
# tmpfs on /dev holding null and the test's own /dev/log, a datagram
# socket python3 reads. Runs on this machine.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/devlog.sh"

rc=0
out=$("$zk" gate --compat seed 2>&1) || rc=$?
[ $rc = 2 ] || fail "--compat seed without --prefix: exit $rc, want 2: $out"
grep -q -- "--compat seed needs --prefix" <<<"$out" || fail "no reason given: $out"
for args in "--any-dataset" "--compat seed --any-dataset --prefix fastpool/x" \
	"--allow list --any-dataset --prefix fastpool/x"; do
	rc=0
	out=$("$zk" gate $args 2>&1) || rc=$?
	[ $rc = 2 ] || fail "zkeep gate $args: exit $rc, want 2: $out"
done

[ "$(id -u)" = 0 ] || fail "needs root, for unshare -m (a private /dev/log)"
command -v logger >/dev/null || fail "no logger (util-linux) to compare with"
# the binary where the unprivileged user of one case can run it
mkdir -p "$d/bin"
cp "$zk" "$d/bin/zkeep"
chmod 755 "$d" "$d/bin"

cat >"$d/check.py" <<'EOF'
import os, pwd, re, socket, subprocess, sys

zk = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("/dev/log")
os.chmod("/dev/log", 0o666)
sock.setblocking(False)
bad = []

def run(argv, line, user=None, client="192.0.2.7 50022 22"):
    """Runs argv with SSH_ORIGINAL_COMMAND=line (None: unset); its exit
    code, stderr and the datagrams it sent."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SSH_CLIENT": client}
    if line is not None:
        env["SSH_ORIGINAL_COMMAND"] = line
    if user:
        pw = pwd.getpwnam(user)
        argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"] + argv
    p = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    got = []
    while True:
        try:
            got.append(sock.recv(65536).decode("latin-1"))
        except BlockingIOError:
            return p.returncode, p.stderr.decode(), got

def check(what, cond, detail):
    if not cond:
        bad.append(f"{what}: {detail}")

STAMP = r"[A-Z][a-z]{2} [ 123][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}"
def seed_lines(log):  # local0.crit: <16 * 8 + 2>
    return [l for l in log if l.startswith("<130>")]
def zkeep_lines(log):  # authpriv: <10 * 8 + priority>
    return [l for l in log if re.match(r"<8[0-7]>", l)]

gate = [zk, "gate", "--compat", "seed", "--prefix", "fastpool/encryptedbackups"]
any_gate = [zk, "gate", "--compat", "seed", "--any-dataset"]
blocked = "BLOCKED non-whitelisted command (client 192.0.2.7 50022 22): "
cases = [
    # (argv, command line, user, the seed line's text after "BLOCKED ... : ")
    (gate, "zfs destroy -r fastpool", "root", "zfs destroy -r fastpool"),
    (gate, "zfs create -o canmount=off fastpool", "root", "zfs create -o canmount=off fastpool"),
    (gate, "zfs list fastpool/encryptedbackups\nzfs destroy -r fastpool", "root",
     "zfs list fastpool/encryptedbackups\\x0azfs destroy -r fastpool"),
    (gate, "ls\r\n\x1b[2J", "nobody", "ls\\x0d\\x0a\\x1b[2J"),
    (gate, None, "root", ""),
    (any_gate, "zfs list a.b", "nobody", "zfs list a.b"),
]
for argv, line, user, text in cases:
    what = f"{argv[3:]} {line!r} as {user}"
    rc, err, log = run(argv, line, None if user == "root" else user)
    check(what, rc == 1, f"exit {rc}")
    check(what, err == "Command not permitted\n", f"stderr {err!r}")
    seed = seed_lines(log)
    want = re.escape(f"{user}: {blocked}{text}")
    check(what, len(seed) == 1 and re.fullmatch(rf"<130>{STAMP} {want}", seed[0]),
          f"seed lines {seed}")
    check(what, all("\n" not in l for l in log), f"a newline in {log}")
    if len(seed) != 1:
        continue
    check(what, len(zkeep_lines(log)) == 1 and "zkeep-gate[" in zkeep_lines(log)[0]
          and "refused from 192.0.2.7" in zkeep_lines(log)[0], f"zkeep's lines {log}")
    check(what, len(log) == 2, f"datagrams {log}")
    if line is not None and "\n" not in line and "\r" not in line:
        # what the seed's script sent: the same bytes, but for the time
        lrc, _, ref = run(["logger", "-t", user, "-p", "local0.crit",
                           blocked + line], None)
        strip = lambda l: re.sub(STAMP, "STAMP", l, count=1)
        check(what, lrc == 0 and len(ref) == 1 and strip(ref[0]) == strip(seed[0]),
              f"logger sent {ref}, the gate {seed}")

# the seed's SSH_CLIENT whole, as the script logged it; unset is empty
rc, err, log = run(gate, "bash", client="2001:db8::5 41000 22")
check("SSH_CLIENT", seed_lines(log) and seed_lines(log)[0].endswith(
    "root: BLOCKED non-whitelisted command (client 2001:db8::5 41000 22): bash"), log)

# allowed, and an admin's --dry-run: no seed line, zkeep's reason on stderr
for argv, line, want_rc in ((gate, "zfs list fastpool", 0),
                            (any_gate, "zfs receive -F -u other/x", 0),
                            (gate, "zfs destroy fastpool", 1)):
    rc, err, log = run(argv + ["--dry-run"], line)
    what = f"--dry-run {line!r}"
    check(what, rc == want_rc, f"exit {rc}")
    check(what, not seed_lines(log), f"a seed line {log}")
    if want_rc:
        check(what, "zkeep gate: command not permitted: " in err, f"stderr {err!r}")

for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF

# /dev as a tmpfs with null (for the shell and setpriv) and the test's log
private_dev "$d" python3 "$d/check.py" "$d/bin/zkeep" || fail "the seed's refusal (above)"
echo "gate --compat seed: the seed's local0.crit line, stderr and exit 1; refuses to start unconfined"
