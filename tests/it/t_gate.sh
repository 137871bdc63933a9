# zkeep gate as a real OpenSSH forced command (root -> zkb@localhost):
# a seed-mode key takes full and incremental raw pushes and refuses the
# rest; a pull key may send, list, hold and release under its prefix only.
. ./lib.sh

pool_create zkg
key=/var/tmp/zk-gate-key
printf 'secretsecret\n' >$key
on_exit rm -f $key
log_must zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file://$key zkg/data
log_must zfs create zkg/backups
dd if=/dev/urandom of=/zkg/data/f bs=64k count=16 status=none
log_must zfs snapshot zkg/data@s1
log_must zfs allow zkb create,mount,receive,canmount zkg/backups
log_must zfs allow zkb send,hold,release zkg/data

d=$(mktemp -d)
on_exit rm -rf "$d"
ssh-keygen -q -t ed25519 -N '' -f "$d/seed"
ssh-keygen -q -t ed25519 -N '' -f "$d/pull"
ak=/home/zkb/.ssh/authorized_keys
cp $ak "$d/ak.orig"
on_exit cp "$d/ak.orig" $ak
{
	echo "command=\"$ZK gate --compat seed --prefix zkg/backups\",restrict $(cat "$d/seed.pub")"
	echo "command=\"$ZK gate --allow send,list,hold,release --prefix zkg/data\",restrict $(cat "$d/pull.pub")"
	cat "$d/ak.orig"
} >$ak
S=(ssh -o BatchMode=yes -o IdentitiesOnly=yes -i "$d/seed" zkb@localhost)
P=(ssh -o BatchMode=yes -o IdentitiesOnly=yes -i "$d/pull" zkb@localhost)

# the seed's push, byte for byte its five command lines; it lists every
# ancestor of its target, the pool among them (above the prefix)
log_must "${S[@]}" ls >/dev/null
log_must "${S[@]}" zfs list zkg/backups >/dev/null
log_must "${S[@]}" zfs list zkg >/dev/null
log_must "${S[@]}" zfs create -o canmount=off zkg/backups/raw
zfs send -w zkg/data@s1 | "${S[@]}" zfs receive -F -u zkg/backups/raw/data ||
	log_fail "full raw push through the gate failed"
dd if=/dev/urandom of=/zkg/data/g bs=64k count=4 status=none
log_must zfs snapshot zkg/data@s2
zfs send -w -i zkg/data@s1 zkg/data@s2 | "${S[@]}" zfs receive -F -u zkg/backups/raw/data ||
	log_fail "incremental raw push through the gate failed"
out=$(log_must "${S[@]}" zfs list -t snapshot -H -o name -s creation -r zkg/backups/raw/data)
assert_eq "$out" $'zkg/backups/raw/data@s1\nzkg/backups/raw/data@s2' "snapshots pushed"
assert_eq "$(zfs get -H -o value encryption zkg/backups/raw/data)" "aes-256-gcm" "raw stream kept encryption"
assert_eq "$(zfs get -H -o value keystatus zkg/backups/raw/data)" "unavailable" "no key on the receiver"

# and nothing else
rm -f /tmp/zk-pwned
for cmd in "zfs destroy zkg/backups/raw/data" "zfs receive -F -u zkg/data2" \
	"zfs list zkg/backups;touch /tmp/zk-pwned" 'zfs list $(touch /tmp/zk-pwned)' \
	"zfs list zkg/backups && touch /tmp/zk-pwned" "zfs list zkg/backups | touch /tmp/zk-pwned" \
	'zfs list `touch /tmp/zk-pwned`' "zfs receive -F -u zkg/backupsX" "zfs send zkg/data@s1" \
	"touch /tmp/zk-pwned" "zfs list -r zkg" "zfs create -o canmount=off zkg/other" \
	"zfs list -t snapshot -H -o name -s creation -r zkg" "zfs receive -F -u zkg" \
	$'zfs list zkg/backups\ntouch /tmp/zk-pwned'; do
	err=$("${S[@]}" "$cmd" 2>&1 </dev/null)
	[ $? -eq 1 ] || log_fail "seed key: '$cmd' was not refused with exit 1"
	# the seed's script's message, exactly: the reason is in the journal
	assert_eq "$err" "Command not permitted" "refusal of '$cmd'"
done
err=$("${S[@]}" 2>&1 </dev/null)
exit_is_failure $? || log_fail "interactive login was not refused (or crashed)"
assert_eq "$err" "Command not permitted" "refusal of an interactive login"
[ -e /tmp/zk-pwned ] && log_fail "an injection ran a command"
log_must zfs list zkg/backups/raw/data >/dev/null
# journald takes /dev/log datagrams asynchronously: sync, and give it a moment
logged=0
for _ in $(seq 1 20); do
	journalctl --sync 2>/dev/null
	if journalctl -t zkeep-gate --no-pager 2>/dev/null |
		grep -Eq 'refused from (127\.0\.0\.1|::1): "zfs destroy zkg/backups/raw/data"'; then
		logged=1
		break
	fi
	sleep 0.5
done
[ $logged = 1 ] || log_fail "no syslog line for a refused command"
# and the seed's line, for the monitoring that watches for it: local0.crit,
# tagged with the key's user, SSH_CLIENT whole, one line for a multi-line
# command (journald keeps a newline inside an entry: none there)
journalctl --sync 2>/dev/null
seed=$(journalctl -t zkb SYSLOG_FACILITY=16 PRIORITY=2 --no-pager -o cat 2>/dev/null)
grep -Eq '^BLOCKED non-whitelisted command \(client (127\.0\.0\.1|::1) [0-9]+ [0-9]+\): zfs destroy zkg/backups/raw/data$' <<<"$seed" ||
	log_fail "no local0.crit BLOCKED line for a refused command: $seed"
grep -Eq '\): zfs list zkg/backups\\x0atouch /tmp/zk-pwned$' <<<"$seed" ||
	log_fail "the multi-line command's BLOCKED line: $seed"
grep -q '^touch /tmp/zk-pwned' <<<"$seed" && log_fail "a multi-line command logged as two lines: $seed"

# the pull key: send, list, hold, release under zkg/data, nothing else
n=$("${P[@]}" zfs send zkg/data@s1 | wc -c)
[ "$n" -gt 100000 ] || log_fail "send through the pull key gave $n bytes"
log_must "${P[@]}" zfs hold zkeep:pull-t zkg/data@s2
assert_contains "$(zfs holds -H zkg/data@s2)" "zkeep:pull-t"
log_must "${P[@]}" zfs release zkeep:pull-t zkg/data@s2
log_must "${P[@]}" zfs list -Hp -t snapshot -o name,guid -s createtxg -r zkg/data >/dev/null
for cmd in "zfs receive -u zkg/data/x" "zfs destroy zkg/data@s1" "zfs hold mine zkg/data@s1" \
	"zfs send zkg/backups/raw/data@s1" "zfs create -o canmount=off zkg/data/x" "ls"; do
	"${P[@]}" "$cmd" </dev/null >/dev/null 2>&1
	[ $? -eq 1 ] || log_fail "pull key: '$cmd' was not refused"
done

# zkeep pull itself through the pull key: its listing and sends pass
log_must zfs snapshot zkg/data@s3
st=$(mktemp -d)
on_exit rm -rf "$st"
printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$st" "$st" >"$st/zkeep.conf"
out=$(log_must $ZK pull --config "$st/zkeep.conf" --host localhost --user zkb --identity "$d/pull" \
	--datasets zkg/data --destination zkg/backups --name gated)
assert_eq "$(zfs list -H -o name -t snapshot -s createtxg zkg/backups/gated/zkg/data | tr '\n' ' ')" \
	"zkg/backups/gated/zkg/data@s1 zkg/backups/gated/zkg/data@s2 zkg/backups/gated/zkg/data@s3 " \
	"snapshots pulled through the gate"

# a hostile client answering "zfs send" with another stream: with -p
# (its properties, mountpoint=/zk-evil among them), with -R (zkg/plain's
# child too, which zfs receive would create with canmount=on, out of
# reach of -o canmount=noauto), or with -I where -i was asked (a package,
# after whose header zfs receive takes any stream that follows, a child's
# included). zkeep asks a client for none of these: the relay reads each
# stream's first record and refuses them before zfs receive sees a byte,
# so nothing is created. The same client sending honestly: the backup
# keeps its own mountpoint (-x mountpoint) and never mounts itself
# (canmount=noauto), in the first send and later; a pull of several
# snapshots at once asks for one -i per snapshot.
log_must zfs create -o mountpoint=/zk-evil zkg/plain
log_must zfs create zkg/plain/kid
log_must zfs snapshot -r zkg/plain@e1
log_must zfs allow zkb send,hold,release zkg/plain
: >"$d/evil.sed"
cat >"$d/evil" <<EOF2
#!/bin/sh
exec sh -c "\$(printf '%s' "\$SSH_ORIGINAL_COMMAND" | sed -f $d/evil.sed)"
EOF2
chmod 755 "$d" "$d/evil"
ssh-keygen -q -t ed25519 -N '' -f "$d/evilkey"
echo "command=\"$d/evil\",restrict $(cat "$d/evilkey.pub")" >>$ak
evil_pull() {
	$ZK pull --config "$st/zkeep.conf" --host localhost --user zkb --identity "$d/evilkey" \
		--datasets zkg/plain --destination zkg/backups --name evil "$@" 2>&1
}
b=zkg/backups/evil/zkg/plain
for flag in -p -R; do
	echo "s/^zfs send /zfs send $flag /" >"$d/evil.sed"
	out=$(evil_pull)
	assert_eq $? 1 "exit code of a pull sent 'zfs send $flag'"
	assert_contains "$out" "the sender sent a replication or property stream (zfs send -R or -p) of 'zkg/plain@e1'"
	zfs list -H -o name $b >/dev/null 2>&1 && log_fail "'zfs send $flag' created $b: $(zfs list -r -o name,canmount,mountpoint zkg/backups/evil)"
	zfs list -H -o name $b/kid >/dev/null 2>&1 && log_fail "'zfs send $flag' created $b/kid"
done
: >"$d/evil.sed"
evil_pull >/dev/null || log_fail "the honest pull: $(evil_pull)"
log_must zfs snapshot -r zkg/plain@e2
log_must zfs snapshot -r zkg/plain@e3
# -i wherever it is among the send's flags (zkeep sends -c -L -e before it)
echo 's/^\(zfs send [-a-zA-Z ]*\)-i /\1-I /' >"$d/evil.sed"
out=$(evil_pull)
assert_eq $? 1 "exit code of a pull sent 'zfs send -I' for '-i'"
assert_contains "$out" "the sender sent a package of streams (zfs send -I) of 'zkg/plain@e2'"
assert_eq "$(zfs list -H -o name -t snapshot -s createtxg $b | tr '\n' ' ')" "$b@e1 " "snapshots after the refused package"
: >"$d/evil.sed"
out=$(evil_pull --debug) || log_fail "the honest incremental pull: $out"
assert_contains "$out" "send -i zkg/plain@e1 zkg/plain@e2"
assert_contains "$out" "send -i zkg/plain@e2 zkg/plain@e3"
assert_eq "$(zfs list -H -o name -t snapshot -s createtxg $b | tr '\n' ' ')" "$b@e1 $b@e2 $b@e3 " "the client's snapshots"
assert_eq "$(zfs get -H -o value canmount $b)" noauto "canmount of a pulled filesystem"
assert_eq "$(zfs get -H -o value canmount $b/kid)" noauto "canmount of a pulled child"
[ "$(zfs get -H -o value mountpoint $b)" = /zk-evil ] && log_fail "the stream set the backup's mountpoint"
zfs get -H -o source mountpoint $b | grep -q received && log_fail "a received mountpoint: $(zfs get mountpoint $b)"
assert_eq "$(zfs get -H -o value mounted $b)" no "the backup mounted"

# --dry-run, for an admin checking a key
out=$(SSH_ORIGINAL_COMMAND="zfs list zkg/backups" log_must $ZK gate --compat seed --prefix zkg/backups --dry-run)
assert_contains "$out" "/zfs list zkg/backups"
SSH_ORIGINAL_COMMAND="zfs destroy zkg/backups" $ZK gate --compat seed --prefix zkg/backups --dry-run 2>/dev/null
assert_eq $? 1 "dry-run exit code of a refused command"
$ZK gate --compat seed >/dev/null 2>&1
assert_eq $? 2 "exit code without --prefix"
out=$(SSH_ORIGINAL_COMMAND="zfs receive -F -u other/x" log_must $ZK gate --compat seed --any-dataset --dry-run)
assert_contains "$out" "/zfs receive -F -u other/x"
