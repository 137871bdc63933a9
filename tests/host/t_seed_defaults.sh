# Under the seed's names, pull and push take what the seed's scripts had
# baked in at deploy time from [compat] (pull_user, pull_destination,
# push_user, push_strip_prefix); a push speaks only the offsite host's five
# command lines (restricted) though the cron line has no --restricted.
# What is still missing stops the run before the lock with the seed's usage
# line and exit 1 (push's --destination: argparse's exit 2). The runs that
# get past the checks go to a host that does not resolve, so they fail at
# the first ssh call (exit 1) after saying what they would do. Runs on this
# machine.
. "$(dirname "$0")/lib/common.sh"
for n in zfs-pull-backups zfs-push-backups; do
	ln -s "$zk" "$d/$n"
done
mkdir "$d/locks" "$d/state"
base="[global]
lock_dir = $d/locks
state_dir = $d/state"
printf '%s\n' "$base" >"$d/bare.conf"
printf '%s\n[compat]\npull_user = zfsbackups\npush_user = zfsbackups\n' "$base" >"$d/users.conf"
printf '%s\n[compat]\npull_user = zfsbackups\npull_destination = slowpool/encryptedbackups
push_user = offsite\npush_strip_prefix = slowpool/encryptedbackups\n' "$base" >"$d/full.conf"
h=nohost.invalid
# run CONF EXPECTED-EXIT TOOL ARGS...: output in $out
run() {
	local conf=$1 want=$2 rc=0
	shift 2
	out=$("$d/$@" --config "$d/$conf" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "$* with $conf: exit $rc, want $want: $out"
	[ -z "$(ls "$d/locks")" ] || fail "$*: left a lock file: $(ls "$d/locks")"
}
usage() { grep -qx "Usage: $1 .*" <<<"$out" || fail "no seed usage line for $1: $out"; }

# missing host, datasets: the seed's usage line, exit 1, no lock taken
run full.conf 1 zfs-pull-backups --datasets tank/a
usage zfs-pull-backups
run full.conf 1 zfs-pull-backups --host $h
usage zfs-pull-backups
run full.conf 1 zfs-push-backups --datasets a --destination fastpool/encryptedbackups
usage zfs-push-backups
# push's --destination was argparse-required
run full.conf 2 zfs-push-backups --host $h --datasets a
grep -q 'required: --destination' <<<"$out" || fail "push without --destination: $out"
# checked before the config is read, as the seed checked its arguments:
# without --config (and whatever /etc/zkeep holds) the same
for t in zfs-pull-backups zfs-push-backups; do
	rc=0
	out=$("$d/$t" --datasets a --destination b 2>&1) || rc=$?
	[ $rc = 1 ] || fail "$t without --host or a config: exit $rc: $out"
	usage $t
done
# no user anywhere: never guessed, and stopped before the lock (a seed
# job holds it here: the answer is the usage line, not "already running")
python3 "$top/tests/helpers/seed/zfs-pull-backups" "$d/locks/zfs-pull-backups-$h.lock" 60 >"$d/seed.out" &
spid=$!
trap 'kill $spid 2>/dev/null || true; rm -rf "$d"' EXIT
for _ in $(seq 100); do [ -s "$d/seed.out" ] && break; sleep 0.1; done
[ "$(cat "$d/seed.out")" = took ] || fail "the seed job did not take the lock"
rc=0
out=$("$d/zfs-pull-backups" --host $h --datasets tank/a --config "$d/bare.conf" 2>&1) || rc=$?
[ $rc = 1 ] || fail "pull without a user, lock held: exit $rc: $out"
grep -q "already running" <<<"$out" && fail "the lock was looked at before the arguments: $out"
kill $spid
wait $spid 2>/dev/null || true
run bare.conf 1 zfs-pull-backups --host $h --datasets tank/a
usage zfs-pull-backups
grep -q 'no --user and no \[compat\] pull_user' <<<"$out" || fail "pull without user: $out"
# a user but no destination: never a guessed pool
run users.conf 1 zfs-pull-backups --host $h --datasets tank/a
grep -q 'no --destination and no \[compat\] pull_destination' <<<"$out" ||
	fail "pull without destination: $out"
# a push without the strip prefix would resend everything beside the old
# copies (D/slowpool/encryptedbackups/...): refused
run users.conf 1 zfs-push-backups --host $h --datasets slowpool/encryptedbackups/c/tank \
	--destination fastpool/encryptedbackups
grep -q 'no --strip-prefix and no \[compat\] push_strip_prefix' <<<"$out" ||
	fail "push without strip prefix: $out"

# with [compat]: the seed's cron lines as rendered (pull with --user, push
# without --restricted), and without --user
run full.conf 1 zfs-pull-backups --host $h --datasets tank/a
grep -q "Pulling 1 dataset(s) from zfsbackups@$h into slowpool/encryptedbackups/$h" <<<"$out" ||
	fail "pull did not take [compat]: $out"
run full.conf 1 zfs-pull-backups --host $h --user other --datasets tank/a --destination tank/b
grep -q "from other@$h into tank/b/$h" <<<"$out" || fail "flags must win over [compat]: $out"
run full.conf 1 zfs-push-backups --host $h --datasets slowpool/encryptedbackups/c/tank \
	--destination fastpool/encryptedbackups
grep -q "to offsite@$h:fastpool/encryptedbackups (restricted)" <<<"$out" ||
	fail "push under the seed name is restricted, [compat] user: $out"
# zkeep's own name keeps zkeep's rules: --destination required, exit 2
rc=0
out=$("$zk" pull --host $h --datasets tank/a --config "$d/full.conf" 2>&1) || rc=$?
[ $rc = 2 ] || fail "zkeep pull without --destination: exit $rc: $out"
echo "seed defaults: [compat] fills the seed's baked-in values; missing ones stop with its usage line"
