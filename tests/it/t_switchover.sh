# Switch-over day, as a sysadmin does it, on one VM: the fleet's files
# left as they are, zkeep put in place of the scripts. A client pool, a
# backup pool with an encrypted encryptedbackups dataset, an offsite pool
# reached at 127.0.0.2 through an sshd Match block whose ForceCommand is
# the offsite allowlist script, written from seed-system.md 3.1 (its
# grep, its local0.crit refusal line). /opt/zfsbackup/zfs-pull-backups and
# zfs-push-backups become links to zkeep, [compat] carries what the
# scripts had baked in, and the seed's cron lines (sections 2 and 3, and
# the later wrapper of section 9) run as cron runs them (/bin/sh -c,
# cron's environment), twice: a full, then an incremental. Then: the
# targets hold the client's snapshots, the offsite logged no refusal, and
# a running seed-style job's lock is honoured. The role's part (links,
# [compat], the inventory) is t_ansible's; the api's consumers, t_api's.
. ./lib.sh

pool_create zsc
pool_create zsb
pool_create zso
log_must zfs create zsc/compositions
log_must zfs create zsc/compositions/gitea
dd if=/dev/urandom of=/zsc/compositions/gitea/f bs=64k count=8 status=none
snap() { log_must zfs snapshot -r "zsc/compositions@autosnap_$1_hourly"; }
snap 2026-12-01_10:00:00
snap 2026-12-01_11:00:00
# the client side: the backup user's delegation (3.2)
log_must zfs allow zkb mount,send,hold,snapshot,destroy,release zsc/compositions
# the backup server: the fleet's encrypted backup dataset
key=/var/tmp/zk-switch-key
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key"
log_must zfs create -o encryption=on -o keyformat=hex -o keylocation=file://$key \
	-o canmount=off zsb/encryptedbackups
# the offsite host: its dataset pre-exists (9), its user's delegation (8)
log_must zfs create -p -o canmount=off zso/backups/raw
log_must zfs allow zkb create,mount,receive,rollback,destroy,release,hold,compression,mountpoint,canmount,readonly zso/backups

# the offsite's forced command, from section 3.1
cat >/usr/local/bin/restrict_commands.sh <<'SH'
#!/bin/bash
PATH=/usr/sbin:/usr/bin:$PATH
ds='[a-zA-Z0-9/_-]+'
if echo "$SSH_ORIGINAL_COMMAND" | grep -qE "^ls$|^zfs list $ds$|^zfs list -t snapshot -H -o name -s creation -r $ds$|^zfs create -o canmount=off $ds$|^zfs receive -F -u $ds$"; then
	exec bash -c "$SSH_ORIGINAL_COMMAND"
fi
logger -p local0.crit "BLOCKED non-whitelisted command (client $SSH_CLIENT): $SSH_ORIGINAL_COMMAND"
echo "Command not permitted" >&2
exit 1
SH
chmod 755 /usr/local/bin/restrict_commands.sh
printf 'Match LocalAddress 127.0.0.2\n\tForceCommand /usr/local/bin/restrict_commands.sh\n' \
	>/etc/ssh/sshd_config.d/zz-offsite.conf
log_must systemctl reload ssh
on_exit 'rm -f /etc/ssh/sshd_config.d/zz-offsite.conf; systemctl reload ssh'
printf 'Host 127.0.0.2\n\tStrictHostKeyChecking no\n\tUserKnownHostsFile /dev/null\n\tLogLevel ERROR\n' \
	>>/root/.ssh/config
# sshd re-executes on reload: wait until it answers there again
for _ in $(seq 50); do ssh zkb@127.0.0.2 ls >/dev/null 2>&1 && break; sleep 0.2; done
# the allowlist is in force there: a command off the list is refused
must_exit 1 --msg "Command not permitted" ssh zkb@127.0.0.2 zfs destroy zso/backups/raw

# zkeep in place of the scripts
mkdir -p /opt/zfsbackup /opt/zfsbackup/scripts /etc/zkeep
for t in zfs-pull-backups zfs-push-backups; do ln -sf "$ZK" /opt/zfsbackup/$t; done
cat >/etc/zkeep/zkeep.conf <<'CONF'
[compat]
pull_user = zkb
pull_destination = zsb/encryptedbackups
push_user = zkb
push_strip_prefix = zsb/encryptedbackups
CONF
on_exit rm -rf /etc/zkeep /opt/zfsbackup
# the later wrapper (section 9): runs the pull, exits with its status
cat >/opt/zfsbackup/scripts/pull-client1.sh <<'SH'
#!/bin/sh
/opt/zfsbackup/zfs-pull-backups --host localhost --name client1 --user zkb --datasets zsc/compositions
exit $?
SH
chmod 755 /opt/zfsbackup/scripts/pull-client1.sh

# the cron lines as rendered (2, 3, 9), run as cron runs them
pull_line='/opt/zfsbackup/zfs-pull-backups --host localhost --user zkb --datasets zsc/compositions >/dev/null'
wrap_line='/opt/zfsbackup/scripts/pull-client1.sh >/dev/null'
push_line='/opt/zfsbackup/zfs-push-backups --host 127.0.0.2 --user zkb --destination zso/backups/raw --datasets zsb/encryptedbackups/localhost/zsc/compositions zsb/encryptedbackups/client1/zsc/compositions  >/dev/null'
cron() { env -i SHELL=/bin/sh HOME=/root LOGNAME=root PATH=/usr/bin:/bin /bin/sh -c "$1"; }
# journalctl --since counts whole seconds: the refusal above is before
sleep 1
since=$(date '+%Y-%m-%d %H:%M:%S')
for round in full incremental; do
	for line in "$pull_line" "$wrap_line" "$push_line"; do
		err=$(cron "$line" 2>&1) || log_fail "$round: cron line failed: $line"$'\n'"$err"
	done
	snap 2026-12-01_12:00:0${round:0:1}
done
# the last snapshot came after the second round: one more round sends it
for line in "$pull_line" "$wrap_line" "$push_line"; do
	cron "$line" >/dev/null 2>&1 || log_fail "third round: $line"
done
for ds in compositions compositions/gitea; do
	want=$(guids zsc/$ds)
	for t in zsb/encryptedbackups/localhost zsb/encryptedbackups/client1; do
		assert_eq "$(guids $t/zsc/$ds)" "$want" "snapshots of $t/zsc/$ds"
	done
	# the offsite: D/ + the dataset minus the strip prefix, raw
	for n in localhost client1; do
		assert_eq "$(guids zso/backups/raw/$n/zsc/$ds)" "$want" "offsite zso/backups/raw/$n/zsc/$ds"
		assert_eq "$(zfs get -H -o value keystatus zso/backups/raw/$n/zsc/$ds)" \
			unavailable "the offsite copy is ciphertext without its key"
	done
done
blocked=$(journalctl -q --since "$since" -p crit | grep BLOCKED || true)
assert_eq "$blocked" "" "refusals the offsite logged"

# a seed-style job holds the pull's lock: the cron line stays out, exit 0
lock=/var/run/zfs-pull-backups-localhost.lock
python3 /opt/zkeep/seed/zfs-pull-backups "$lock" 120 >/var/tmp/zk-seed.out &
spid=$!
on_exit kill $spid
for _ in $(seq 100); do [ -s /var/tmp/zk-seed.out ] && break; sleep 0.1; done
snap 2026-12-01_13:00:00
err=$(cron "$pull_line" 2>&1) || log_fail "lock held by a seed job: the cron line failed: $err"
assert_contains "$err" "already running (PID $spid) (the seed's job)"
assert_eq "$(cat $lock)" "$spid" "the seed job's lock file"
[ "$(guids zsb/encryptedbackups/localhost/zsc/compositions)" != "$(guids zsc/compositions)" ] ||
	log_fail "a pull ran while the seed's job held the lock"
kill $spid
wait $spid 2>/dev/null
err=$(cron "$pull_line" 2>&1) || log_fail "after the seed job: $err"
assert_eq "$(guids zsb/encryptedbackups/localhost/zsc/compositions)" "$(guids zsc/compositions)" \
	"the pull after the seed's job left"
echo "switch-over: the seed's cron lines run zkeep, full and incremental, through the offsite allowlist"
