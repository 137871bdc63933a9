# The systemd units and timers: they verify, their schedules are the seed's,
# and the snapshot service really snapshots when systemd starts it.
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
for t in $units/*.timer; do
	for c in $(sed -n 's/^OnCalendar=//p' "$t" | tr ' ' '_'); do
		systemd-analyze calendar "${c//_/ }" >/dev/null || log_fail "bad calendar in $t"
	done
done

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
