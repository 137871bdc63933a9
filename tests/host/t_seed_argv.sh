# The seed tools' argv, as argparse took it, under the seed names: unique
# abbreviations of the seed's own options (zkeep's other options never make
# one ambiguous: --st is --strip-prefix to zfs-push-backups, though zkeep
# push also has --stall-timeout), --opt=value, and the --no- forms of
# --debug and --quiet. Each command line below must get past option
# parsing (to the config file, which does not exist here: exit 2 naming
# it), where zkeep's own name keeps getopt's rules. Runs on this machine.
. "$(dirname "$0")/lib/common.sh"
for n in zfs-pull-backups zfs-push-backups zfs-snapshot zfs-prune zfs-snapshot-report; do
	ln -s "$zk" "$d/$n"
done
parses() { # tool args...: option parsing accepted them
	local out rc=0
	out=$("$d/$@" --config "$d/none.conf" 2>&1) || rc=$?
	[ $rc = 2 ] && grep -q "cannot open config '$d/none.conf'" <<<"$out" ||
		fail "$* (exit $rc): $out"
}
parses zfs-push-backups --host h --datasets a --st P --dest D
parses zfs-push-backups --ho=h --dat a b --destination=D --bw 10M --no-q --no-deb
parses zfs-pull-backups --ho h --dat a --us u --dest D --na n --no-quiet --deb
# the later seed's MQTT flags (seed-system.md 9), abbreviated as argparse took them
parses zfs-pull-backups --ho h --dat a --us u --dest D --mqtt-h broker --mqtt-t p/q --mqtt-n m
parses zfs-pull-backups --host h --datasets a --mqtt-host=broker --mqtt-topic-prefix=p --mqtt-name=m
parses zfs-snapshot --ty hourly --dry --deb
parses zfs-prune --dry --no-debug
parses zfs-snapshot-report --js --cache "$d/cache.json"
parses zfs-snapshot-report --mqtt-p --mqtt-t homeinfra/monitoring/zfs/h/snapshots --mqtt-h=localhost
# --mqtt alone is ambiguous among the seed's own three (argparse: exit 2)
out=$("$d/zfs-pull-backups" --host h --datasets a --mqtt b 2>&1) && fail "zfs-pull-backups --mqtt: exit 0"
grep -q "option '--mqtt' is ambiguous\|unknown option '--mqtt'" <<<"$out" || fail "zfs-pull-backups --mqtt: $out"
# zkeep's own name: --st is ambiguous there (--strip-prefix, --stall-timeout)
out=$("$zk" push --host h --datasets a --st P --destination D 2>&1) && fail "zkeep push --st: exit 0"
grep -q "unknown option '--st'" <<<"$out" || fail "zkeep push --st: $out"
echo "seed argv: abbreviations, --opt=value and --no- forms parse under the seed names"
