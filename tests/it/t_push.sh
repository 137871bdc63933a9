# zkeep push of raw (encrypted) streams over real ssh: through the seed's
# five-line allowlist (a zkeep gate --compat seed key, restricted mode) and
# to an ordinary receiving user (guid mode).
. ./lib.sh

pool_create zpsrc
pool_create zpoff
key=/var/tmp/zk-push-key
printf 'secretsecret\n' >$key
on_exit rm -f $key
log_must zfs create -p zpsrc/backups/raw
log_must zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file://$key zpsrc/backups/raw/h
log_must zfs create zpsrc/backups/raw/h/data
dd if=/dev/urandom of=/zpsrc/backups/raw/h/data/f bs=64k count=16 status=none
log_must zfs snapshot -r zpsrc/backups/raw/h@autosnap_2026-01-21_00:15:00_daily
log_must zfs create -p zpoff/backups/raw
log_must zfs allow zkb create,mount,receive,canmount zpoff/backups

d=$(mktemp -d)
on_exit rm -rf "$d"
ssh-keygen -q -t ed25519 -N '' -f "$d/seed"
ak=/home/zkb/.ssh/authorized_keys
cp $ak "$d/ak.orig"
on_exit cp "$d/ak.orig" $ak
{
	echo "command=\"$ZK gate --compat seed --prefix zpoff/backups\",restrict $(cat "$d/seed.pub")"
	cat "$d/ak.orig"
} >$ak
conf=$d/zkeep.conf
printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$d" "$d" >"$conf"
since=$(date '+%Y-%m-%d %H:%M:%S')
PUSH=($ZK push --config "$conf" --host localhost --user zkb --identity "$d/seed" --restricted
	--datasets zpsrc/backups/raw/h --strip-prefix zpsrc/backups/raw --destination zpoff/backups/raw)

out=$(log_must "${PUSH[@]}")
assert_contains "$out" "Full send of zpsrc/backups/raw/h/data@autosnap_2026-01-21_00:15:00_daily into zpoff/backups/raw/h/data"
assert_eq "$(guids zpoff/backups/raw/h/data)" "$(guids zpsrc/backups/raw/h/data)" "pushed snapshots"
assert_eq "$(zfs get -H -o value keystatus zpoff/backups/raw/h/data)" unavailable "key on the offsite host"

# incremental, then up to date
log_must zfs snapshot -r zpsrc/backups/raw/h@autosnap_2026-01-22_00:15:00_daily
out=$(log_must "${PUSH[@]}")
assert_contains "$out" "Incremental send zpsrc/backups/raw/h/data@autosnap_2026-01-21_00:15:00_daily"
assert_eq "$(guids zpoff/backups/raw/h/data)" "$(guids zpsrc/backups/raw/h/data)" "pushed snapshots"
out=$(log_must "${PUSH[@]}")
assert_contains "$out" "Up to date: zpoff/backups/raw/h/data"

# every command line the gate saw was one of the five, and none refused
log=$(journalctl -t zkeep-gate --since "$since" --no-pager -o cat)
[ -n "$log" ] || log_fail "the gate logged nothing"
grep -q refused <<<"$log" && log_fail "the gate refused a command of push --restricted: $log"
bad=$(grep -o '"[^"]*"' <<<"$log" | tr -d '"' | grep -Ev '^(ls|zfs list [a-zA-Z0-9/_-]+|zfs list -t snapshot -H -o name -s creation -r [a-zA-Z0-9/_-]+|zfs create -o canmount=off [a-zA-Z0-9/_-]+|zfs receive -F -u [a-zA-Z0-9/_-]+)$' || true)
[ -z "$bad" ] || log_fail "push sent lines outside the seed's five: $bad"
python3 - "$d/push-localhost.json" <<'PY' || log_fail "push run record"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "push" and r["result"] == "ok", r
assert all(x["matched_by_name"] for x in r["datasets"]), r
PY

# without --restricted: guid mode to a plain receiving user
log_must zfs create zpoff/backups/plain
out=$(log_must $ZK push --config "$conf" --host localhost --user zkb --datasets zpsrc/backups/raw/h/data \
	--strip-prefix zpsrc/backups/raw/h --destination zpoff/backups/plain)
assert_eq "$(guids zpoff/backups/plain/data)" "$(guids zpsrc/backups/raw/h/data)" "guid-mode push"

# the seed's name and a lock per host
ln -s $ZK "$d/zfs-push-backups"
flock -o "$d/zfs-push-backups-localhost.lock" sleep 20 &
fpid=$!
on_exit kill $fpid
sleep 1
out=$(log_must "$d/zfs-push-backups" --config "$conf" --host localhost --user zkb --identity "$d/seed" \
	--restricted --datasets zpsrc/backups/raw/h --strip-prefix zpsrc/backups/raw --destination zpoff/backups/raw)
assert_contains "$out" "🚨 Another instance is already running (PID $fpid)"
kill $fpid
wait $fpid 2>/dev/null || true

# two config sections pushing one dataset to one host: they take turns on
# the host's lock (the second does not find it held and give up) and keep
# their own run records and hold tags. Each destroys the bookmarks an
# earlier zkeep made for it once its base is held, and only those ("off"
# must not take "off_eu"'s bookmarks for its own).
log_must zfs create zpoff/backups/eu
log_must zfs create zpoff/backups/us
for s in off_eu:eu off:us; do
	printf '[push %s]\nhost = localhost\nuser = zkb\ndatasets = zpsrc/backups/raw/h/data\nstrip_prefix = zpsrc/backups/raw/h\ndestination = zpoff/backups/%s\n' \
		"${s%:*}" "${s#*:}" >>"$conf"
done
old=$(zfs list -H -o name -t snapshot -s createtxg zpsrc/backups/raw/h/data | head -n 1)
for j in off off-eu; do log_must zfs bookmark "$old" "zpsrc/backups/raw/h/data#zkeep_${j}_${old#*@}"; done
log_must $ZK push --config "$conf" --job off >/dev/null
assert_eq "$(zfs list -H -o name -t bookmark zpsrc/backups/raw/h/data | sed 's/.*#//')" \
	"zkeep_off-eu_${old#*@}" "bookmarks after job off's push"
out=$(log_must $ZK push --config "$conf" --jobs 2)
grep -q "Another instance is already running" <<<"$out" && log_fail "a section gave up on its sibling's lock: $out"
assert_eq "$(guids zpoff/backups/eu/data)" "$(guids zpsrc/backups/raw/h/data)" "section off_eu's push"
assert_eq "$(guids zpoff/backups/us/data)" "$(guids zpsrc/backups/raw/h/data)" "section off's push"
for s in off off_eu; do
	[ "$(jq -r '.result + " " + .job' "$d/push-$s.json")" = "ok $s" ] ||
		log_fail "push-$s.json: $(cat "$d/push-$s.json")"
done
snap=autosnap_2026-01-22_00:15:00_daily
holds=$(zfs holds -H zpsrc/backups/raw/h/data@$snap)
assert_contains "$holds" "zkeep:off	"
assert_contains "$holds" "zkeep:off_eu	"
assert_eq "$(zfs list -H -o name -t bookmark zpsrc/backups/raw/h/data)" "" "bookmarks where the source holds"

# a partial receive on the restricted remote (someone ran receive -s there):
# the seed's lines cannot clear it, so the dataset fails and says how
log_must zfs snapshot -r zpsrc/backups/raw/h@autosnap_2026-01-23_00:15:00_daily
dd if=/dev/urandom of=/zpsrc/backups/raw/h/data/g bs=1M count=8 status=none
log_must zfs snapshot -r zpsrc/backups/raw/h@autosnap_2026-01-24_00:15:00_daily
zfs send -w -i @autosnap_2026-01-22_00:15:00_daily zpsrc/backups/raw/h/data@autosnap_2026-01-24_00:15:00_daily |
	head -c 3000000 | zfs receive -s -u zpoff/backups/raw/h/data 2>/dev/null
[ "$(zfs get -H -o value receive_resume_token zpoff/backups/raw/h/data)" != - ] ||
	log_fail "no partial receive made on the target"
out=$("${PUSH[@]}" 2>&1)
assert_eq $? 1 "exit code with a partial receive on the restricted remote"
assert_contains "$out" "run 'zfs receive -A zpoff/backups/raw/h/data' on that host"
log_must zfs receive -A zpoff/backups/raw/h/data
out=$(log_must "${PUSH[@]}")
assert_eq "$(guids zpoff/backups/raw/h/data)" "$(guids zpsrc/backups/raw/h/data)" "pushed after receive -A"
