# The systemd units and timers: they verify, their schedules are the seed's,
# and the snapshot service really snapshots when systemd starts it.
# On OpenZFS 2.1 only: the units do not depend on the flavour.
# zkeep-it: flavour 2.1
. ./lib.sh

units=/opt/zkeep/deploy/systemd
[ -d $units ] || log_fail "no units copied to $units"
install -m 0755 $ZK /usr/bin/zkeep
on_exit rm -f /usr/bin/zkeep
# --man=no: the VM has no man command; the pages ship in the package
out=$(systemd-analyze verify --man=no $units/*.service $units/*.timer 2>&1) || log_fail "systemd-analyze verify: $out"
[ -z "$out" ] || log_fail "systemd-analyze verify complained: $out"

cal() { sed -n 's/^OnCalendar=//p' "$units/$1"; }
assert_eq "$(cal zkeep-snapshot-hourly.timer)" "*-*-* *:00:00" "hourly schedule"
assert_eq "$(sed -n 's/^RandomizedDelaySec=//p' $units/zkeep-snapshot-hourly.timer)" 60 "hourly delay"
assert_eq "$(cal zkeep-snapshot-daily.timer)" "*-*-* 00:15:00" "daily schedule"
assert_eq "$(cal zkeep-snapshot-monthly.timer)" "*-*-01 00:20:00" "monthly schedule"
assert_eq "$(cal zkeep-snapshot-yearly.timer)" "*-01-01 00:25:00" "yearly schedule"
assert_eq "$(cal zkeep-prune.timer)" "*-*-* *:30:00" "prune schedule"
assert_eq "$(sed -n 's/^OnUnitActiveSec=//p' $units/zkeep-report.timer)" 5min "report cache period"
assert_eq "$(cal zkeep-pull@.timer)" "*-*-* 00,10,12,16,20:00:00" "pull schedule"
assert_eq "$(cal zkeep-push@.timer)" "*-*-* 02:30:00" "push schedule"
for t in $units/*.timer; do
	for c in $(sed -n 's/^OnCalendar=//p' "$t" | tr ' ' '_'); do
		systemd-analyze calendar "${c//_/ }" >/dev/null || log_fail "bad calendar in $t"
	done
done

# The templates' calendars fire when the seed's cron did.
next() { systemd-analyze calendar --iterations=6 "$1" --base-time="2026-01-21 01:00:00 UTC" |
	sed -n 's/.*\(Iter\. #[0-9]\|Next elapse\): [A-Za-z]* [0-9-]* \([0-9:]*\).*/\2/p' | tr '\n' ' '; }
assert_eq "$(TZ=UTC next "$(cal zkeep-pull@.timer)")" "10:00:00 12:00:00 16:00:00 20:00:00 00:00:00 10:00:00 " "pull times"
assert_eq "$(TZ=UTC next "$(cal zkeep-push@.timer)")" "02:30:00 02:30:00 02:30:00 02:30:00 02:30:00 02:30:00 " "push times"

# systemd runs the daily service: the snapshot appears
pool_create zku
log_must zfs create zku/d
mkdir -p /etc/zkeep
on_exit rm -rf /etc/zkeep
printf '[dataset zku/d]\npolicy = low\n' >/etc/zkeep/zkeep.conf
cp $units/*.service $units/*.timer /etc/systemd/system/
on_exit 'rm -f /etc/systemd/system/zkeep-*; systemctl daemon-reload'
log_must systemctl daemon-reload
log_must systemctl start zkeep-snapshot-daily.service
n=$(zfs list -H -o name -t snapshot zku/d | grep -c '@autosnap_.*_daily$')
assert_eq "$n" 1 "daily snapshots made by the systemd service"
log_must systemctl start zkeep-report.service
python3 -c "import json; json.load(open('/var/cache/zfs-snapshot-report.json'))" ||
	log_fail "the report service wrote no JSON cache"
rm -f /var/cache/zfs-snapshot-report.json

# The pull template, hardening and all, pulls over real ssh (root's key to
# zkb@localhost, send delegated) and logs to the journal under its name.
pool_create zkud
log_must zfs allow zkb mount,send,hold,snapshot,destroy,release zku
# The job is a section of /etc/zkeep/zkeep.conf (the unit runs `zkeep pull
# --job t`), next to a second job the unit must not run.
st=/var/lib/zkeep-t-units
mkdir -p $st
on_exit rm -rf $st
printf '[global]\nstate_dir = %s\n[dataset zku/d]\npolicy = low\n[pull t]\nhost = localhost\nuser = zkb\ndatasets = zku/d\ndestination = zkud\n[pull other]\nhost = localhost\nuser = zkb\ndatasets = zku/d\ndestination = zkud/other\n' \
	"$st" >/etc/zkeep/zkeep.conf
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start zkeep-pull@t.service || log_fail "zkeep-pull@t.service failed: $(journalctl -u zkeep-pull@t.service --no-pager -o cat | tail -n 20)"
assert_eq "$(systemctl show -P Result zkeep-pull@t.service)" success "pull service result"
assert_eq "$(zfs list -H -o name -t snapshot zkud/t/zku/d | grep -c '@autosnap_.*_daily$')" 1 "snapshots pulled by the service"
python3 -c "import json,sys; r=json.load(open('$st/pull-t.json')); sys.exit(r['result']!='ok')" ||
	log_fail "pull run record"
[ -e $st/pull-other.json ] && log_fail "zkeep-pull@t.service ran the job 'other' too"
zfs list zkud/other >/dev/null 2>&1 && log_fail "zkeep-pull@t.service pulled into zkud/other"
journalctl --sync
journalctl -u zkeep-pull@t.service --since "$since" --no-pager -o cat | grep -q "Pulling 1 dataset" ||
	log_fail "the pull's output is not in the journal"
