# needs: vm
# cost: 650 (seconds, about: tests/run starts the longest first)
# needs: deb (tests/run builds one .deb per run and passes it as ZKEEP_TEST_DEB)
# The Ansible role, applied over ssh to the test VM (OpenZFS 2.3) playing
# every part at once: client (pool zc), backup server (pool zb) and offsite
# host (pool zo), pools made of files. After one apply: the package is
# installed, the timers enabled, the policy snapshot service snapshots, one
# pull job and one restricted push job (through zkeep gate --compat seed)
# complete under systemd; a second apply changes nothing. The client's
# zfs: tree is in the old inventory's form (seed-system.md 8), and the
# old tools' files are there (small scripts): with zkeep_replace_seed they
# become links to zkeep, the originals kept as *.seed; where the old
# units and cron entries run, zkeep's timers stay off; zkeep_replace_seed
# false puts the originals back. A wrapper that passes the later --mqtt-*
# options does not stop the switch, and publishes through the link.
# Four applies in all, each a few minutes under emulation.
# ZKEEP_TEST_VM=NAME reuses a running VM (and leaves it running).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. tests/vm/lib.sh
d=$(mktemp -d)
vm=${ZKEEP_TEST_VM:-zkeep-ansible-$$}
cleanup() {
	[ -n "${ZKEEP_TEST_VM:-}" ] || tests/vm/vm stop "$vm" >/dev/null 2>&1 || true
	rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ansible-lint where installed (scripts/install-deps installs it), and the
# example inventory's playbook parses.
(cd deploy/ansible && ansible-playbook --syntax-check -i inventory/example/hosts.yml site.yml >/dev/null) ||
	fail "syntax check of site.yml"
if command -v ansible-lint >/dev/null; then
	(cd deploy/ansible && ansible-lint --offline -q site.yml roles/zkeep >"$d/lint" 2>&1) ||
		fail "ansible-lint: $(cat "$d/lint")"
fi

deb=${ZKEEP_TEST_DEB:-}
[ -n "$deb" ] || deb=$(scripts/build-deb "$d" | grep -v dbgsym) || fail "scripts/build-deb"
tests/vm/vm start 2.3 "$vm" >/dev/null 2>"$d/vm.log" || fail "vm start: $(cat "$d/vm.log")"
run="$ZKEEP_CACHE/run/$vm"
v() { tests/vm/vm ssh "$vm" "$@"; }

v 'set -e
for p in zc zb zo; do
	zpool list $p >/dev/null 2>&1 && continue
	truncate -s 256M /var/tmp/zk-$p.img
	zpool create -f -O mountpoint=/$p $p /var/tmp/zk-$p.img
done
for ds in zc/data zc/data/sub zc/data/gitea zc/data/gitea/repos zc/data/logs zc/web zc/tmp zc/scratch; do
	zfs list $ds >/dev/null 2>&1 || zfs create $ds
done
# as in the fleet, the backup parent is encrypted: plain streams pulled
# into it inherit that, and the raw push sends ciphertext only
[ -s /var/tmp/zk-key ] || od -An -tx1 -N32 /dev/urandom | tr -d " \n" >/var/tmp/zk-key
zfs list zb/backups >/dev/null 2>&1 ||
	zfs create -o encryption=on -o keyformat=hex -o keylocation=file:///var/tmp/zk-key -o canmount=off zb/backups
dd if=/dev/urandom of=/zc/data/f bs=64k count=16 status=none
mkdir -p /var/tmp/zk-traefik' || fail "pools in the VM"

# The old system's tools, as small scripts where it installed them, and what
# the switch must not touch: a wrapper, the venv, the logs. Made once (a
# reused VM keeps the *.seed of an earlier run).
seed_paths="/opt/zfsbackup/zfs-pull-backups /opt/zfsbackup/zfs-push-backups"
seed_paths="$seed_paths /opt/zfs-policy/zfs-snapshot /opt/zfs-policy/zfs-prune /opt/zfs-policy/zfs-snapshot-report"
untouched="/opt/zfsbackup/scripts/pull-vm.sh /opt/zfsbackup/bin/python /opt/zfsbackup/logs/backups.log"
v "set -e
# a reused VM: the old unit and cron entry of an earlier run gone
systemctl disable --now zfs-snapshot-hourly.timer >/dev/null 2>&1 || true
rm -f /etc/systemd/system/zfs-snapshot-hourly.service /etc/systemd/system/zfs-snapshot-hourly.timer
systemctl daemon-reload
if [ -x /usr/local/bin/crontab ]; then rm -f /usr/local/bin/crontab
elif command -v crontab >/dev/null; then crontab -r -u root 2>/dev/null || true; fi
mkdir -p /opt/zfsbackup/scripts /opt/zfsbackup/bin /opt/zfsbackup/logs /opt/zfs-policy
for f in $seed_paths; do
	[ -e \$f.seed ] && continue
	printf '#!/bin/sh\necho seed %s\n' \$f >\$f
	chmod 0774 \$f
done
printf '#!/bin/sh\n/opt/zfsbackup/zfs-pull-backups --host vm --datasets zc/data\n/opt/zfsbackup/zfs-pull-backups --host localhost --name vm --identity /root/.ssh/id_zkeep --datasets zc/data --mqtt-host 127.0.0.1\n' >/opt/zfsbackup/scripts/pull-vm.sh
echo venv >/opt/zfsbackup/bin/python
echo old >/opt/zfsbackup/logs/backups.log" || fail "the old tools in the VM"
sums_before=$(v "md5sum $untouched")

cat >"$d/hosts.yml" <<INV
all:
  children:
    zkeep_clients:
      hosts:
        vm:
          ansible_host: 127.0.0.1
          ansible_port: $(cat "$run/port")
          ansible_user: root
          ansible_ssh_private_key_file: $(cat "$run/image")/id_ed25519
          ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
          ansible_python_interpreter: /usr/bin/python3
          zkeep_deb: $deb
          # the backup server reaches the client and the offsite host here
          zkeep_address: localhost
          # the api on loopback (the role's default), with the proxy's
          # route written as the old system's Traefik served zfs-api
          zkeep_api_proxy_route_file: /var/tmp/zk-traefik/zfs-api.yml
          zkeep_api_proxy_domain: example.net
          zkeep_api_proxy_upstream: 127.0.0.1:8000
          # the old inventory's form, with its keys that zkeep ignores
          zfs:
            zc:
              pool_properties: {ashift: 12}
              vdevs:
                - type: stripe
                  disks: [/var/tmp/zk-zc.img]
              state: present
              datasets:
                data:
                  policy: critical
                  children_inherit_policy: true
                  snapshots_discover_children: true
                  properties: {compression: lz4}
                  datasets:
                    gitea:
                      datasets:
                        repos:
                    logs:
                      policy: none
                web:
                  importance: high
                  delegation: {user: zfsbackup}
                tmp:
                  policy: low
                  device: /dev/null
                scratch:
            zb:
              vdevs: []
            zo:
          # switch-over: the old tools' paths run zkeep
          zkeep_replace_seed: true
          zkeep_pull_destination: zb/backups/raw
          zkeep_pull_keep: "daily=10"
          zkeep_push_to: vm
          zkeep_push_bwlimit: 50M
          zkeep_offsite_prefix: zo/backups/raw
          # client and offsite are one host here: two users, two keys' lines
          zkeep_offsite_user: zfsoffsite
    zkeep_backup_servers:
      hosts:
        vm:
    zkeep_offsite:
      hosts:
        vm:
INV

apply() { # name [ansible-playbook options]
	local n=$1
	shift
	# each task's time in the log: where an apply's minutes go
	(cd deploy/ansible && ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
		ansible-playbook -i "$d/hosts.yml" "$@" site.yml) >"$d/$n.log" 2>&1
}
recap() { sed -n '/^PLAY RECAP/,$p' "$d/$1.log" | grep '^vm '; }
apply first || fail "first apply:"$'\n'"$(tail -n 40 "$d/first.log")"
recap first | grep -q 'failed=0' || fail "first apply: $(recap first)"

[ "$(v 'dpkg-query -W -f=\${Version} zkeep')" = "$(dpkg-deb -f "$deb" Version)" ] || fail "package not installed"
for t in zkeep-snapshot-hourly zkeep-snapshot-daily zkeep-snapshot-monthly zkeep-snapshot-yearly \
	zkeep-prune zkeep-report zkeep-pull@vm zkeep-push@vm; do
	[ "$(v systemctl is-enabled $t.timer)" = enabled ] || fail "$t.timer not enabled"
	[ "$(v systemctl is-active $t.timer)" = active ] || fail "$t.timer not active"
done
# one file: the datasets and both jobs, which the templates run by --job
v 'grep -q "^\[dataset zc/data\]" /etc/zkeep/zkeep.conf && grep -q "^\[pull vm\]" /etc/zkeep/zkeep.conf &&
	sed -n "/^\[push vm\]/,/^\[/p" /etc/zkeep/zkeep.conf | grep -q "^restricted = yes" && test ! -e /etc/zkeep/jobs' ||
	fail "rendered config: $(v cat /etc/zkeep/zkeep.conf)"
# the old cron lines' baked-in values, for zkeep under the seed's names
[ "$(v "sed -n '/^\[compat\]/,/^\[/p' /etc/zkeep/zkeep.conf | grep -v -e '^[[#]' -e '^$'")" = "pull_user = zfsbackup
pull_destination = zb/backups/raw
push_user = zfsoffsite
push_strip_prefix = zb/backups/raw" ] || fail "[compat]: $(v cat /etc/zkeep/zkeep.conf)"
# the old tree read by seed-system.md 1.2: own keys only (zkeep inherits),
# every declared dataset, no pool root, importance as policy
[ "$(v "awk '/^\\[/ { p = /^\\[dataset / } p && NF' /etc/zkeep/zkeep.conf")" = "[dataset zc/data]
policy = critical
discover_children = yes
children_inherit_policy = yes
[dataset zc/data/gitea]
[dataset zc/data/gitea/repos]
[dataset zc/data/logs]
policy = none
[dataset zc/web]
policy = high
[dataset zc/tmp]
policy = low
[dataset zc/scratch]" ] || fail "[dataset] sections: $(v cat /etc/zkeep/zkeep.conf)"
[ "$(v systemctl show -P ExecStart zkeep-pull@vm.service | grep -o 'argv\[\]=[^;]*')" = "argv[]=/usr/bin/zkeep pull --job vm " ] ||
	fail "zkeep-pull@vm.service: $(v systemctl show -P ExecStart zkeep-pull@vm.service)"
v 'grep -q "^command=\"/usr/bin/zkeep gate --compat seed --prefix zo/backups/raw\",restrict ssh-ed25519 " \
	/var/lib/zfsoffsite/.ssh/authorized_keys' || fail "no gated key for the offsite user"
v 'zfs allow zc/data' | grep -q 'user zfsbackup .*send' || fail "no delegation on zc/data: $(v zfs allow zc/data)"
# switch-over: each old tool a link to zkeep, its original beside it as
# *.seed (content and mode kept); wrapper, venv and logs untouched
for f in $seed_paths; do
	[ "$(v "readlink $f")" = /usr/bin/zkeep ] || fail "$f is not a link to zkeep: $(v "ls -l $f")"
	[ "$(v "stat -c '%F %a' $f.seed && cat $f.seed")" = "regular file 774
#!/bin/sh
echo seed $f" ] || fail "$f.seed is not the original: $(v "ls -l $f.seed; cat $f.seed")"
done
[ "$(v "md5sum $untouched")" = "$sums_before" ] || fail "the switch touched the wrapper, venv or logs"
# zkeep under the old name, through the link
v '/opt/zfs-policy/zfs-snapshot-report --json' | grep -q '"zc/data/gitea"' ||
	fail "zfs-snapshot-report through the link: $(v '/opt/zfs-policy/zfs-snapshot-report --json' 2>&1)"
# the api: on loopback only, and the proxy's route to it
v 'for i in $(seq 1 50); do curl -sf 127.0.0.1:8000/api/v1/health >/dev/null && exit 0; sleep 0.2; done; exit 1' ||
	fail "the api does not answer on 127.0.0.1:8000: $(v 'journalctl -u zkeep-api --no-pager -o cat | tail -n 20')"
listening=$(v "ss -Hltn 'sport = :8000'" | awk '{print $4}')
[ "$listening" = 127.0.0.1:8000 ] || fail "the api listens on '$listening', not on 127.0.0.1:8000 only"
v 'cat /var/tmp/zk-traefik/zfs-api.yml' >"$d/route.yml" || fail "no proxy route written"
python3 - "$d/route.yml" <<'PY' || fail "the proxy route: $(cat "$d/route.yml")"
import sys, yaml
r = yaml.safe_load(open(sys.argv[1]))["http"]
router = r["routers"]["zfs-api-vm"]
assert router["rule"] == "Host(`zfs-api.vm.example.net`)", router
assert router["entryPoints"] == ["websecure"] and router["tls"] == {}, router
assert r["services"]["zfs-api-vm"]["loadBalancer"]["servers"] == [{"url": "http://127.0.0.1:8000"}], r
PY

# the services the timers start, started now
unit() { # unit -> its journal on failure
	v "systemctl start $1" || fail "$1: $(v "journalctl -u $1 --no-pager -o cat | tail -n 30")"
	[ "$(v systemctl show -P Result "$1")" = success ] || fail "$1 did not succeed"
}
since=$(v "date '+%Y-%m-%d %H:%M:%S'")
unit zkeep-snapshot-daily.service
for ds in zc/data zc/data/sub zc/web zc/tmp; do
	[ "$(v "zfs list -H -o name -t snapshot $ds | grep -c '@autosnap_.*_daily\$'")" = 1 ] ||
		fail "no daily snapshot of $ds"
done
# inherited (declared, no policy key: the chain reaches grandchildren),
# explicit none, nothing to inherit
for ds in zc/data/gitea zc/data/gitea/repos; do
	[ "$(v "zfs list -H -o name -t snapshot $ds | grep -c '@autosnap_.*_daily\$'")" = 1 ] ||
		fail "no daily snapshot of $ds (critical, inherited)"
done
for ds in zc/data/logs zc/scratch; do
	[ -z "$(v "zfs list -H -o name -t snapshot $ds")" ] || fail "$ds (policy none) was snapshotted"
done
# zkeep report: every declared dataset with the old system's policy, no
# pool root; zc/data/sub, found below zc/data, as critical if listed
v 'zkeep report --json' >"$d/report.json" || fail "zkeep report: $(v 'zkeep report --json' 2>&1)"
python3 - "$d/report.json" <<'PY' || fail "zkeep report: $(v 'zkeep report' 2>&1)"
import json, sys
r = json.load(open(sys.argv[1]))
managed = r if isinstance(r, list) else r["managed"]
got = {d["dataset"]: d["policy"] for d in managed}
want = {"zc/data": "critical", "zc/data/gitea": "critical", "zc/data/gitea/repos": "critical",
        "zc/data/logs": "none",
        "zc/web": "high", "zc/tmp": "low", "zc/scratch": "none"}
assert {k: got.get(k) for k in want} == want, got
assert got.get("zc/data/sub", "critical") == "critical", got
assert not set(got) - set(want) - {"zc/data/sub"}, got
PY
unit zkeep-pull@vm.service
for ds in zc/data zc/data/sub zc/web zc/data/gitea zc/data/gitea/repos; do
	[ "$(v "zfs list -H -o name -t snapshot zb/backups/raw/vm/$ds | grep -c '@autosnap_.*_daily\$'")" = 1 ] ||
		fail "$ds not pulled into zb/backups/raw/vm/$ds"
done
v 'zfs list zb/backups/raw/vm/zc/tmp' >/dev/null 2>&1 && fail "zc/tmp (policy low) was pulled"
unit zkeep-push@vm.service
for ds in zc/data zc/data/sub; do
	g1=$(v "zfs list -H -p -o guid -t snapshot -s createtxg zb/backups/raw/vm/$ds")
	g2=$(v "zfs list -H -p -o guid -t snapshot -s createtxg zo/backups/raw/vm/$ds" 2>/dev/null) || true
	[ -n "$g1" ] && [ "$g1" = "$g2" ] || fail "$ds not pushed to zo/backups/raw/vm/$ds"
done
v 'zfs list zo/backups/raw/vm/zc/web' >/dev/null 2>&1 && fail "zc/web (policy high) went offsite"
[ "$(v 'zfs get -H -o value keystatus zo/backups/raw/vm/zc/data')" = unavailable ] ||
	fail "the offsite copy is not encrypted or its key is loaded: $(v 'zfs get encryption,keystatus zo/backups/raw/vm/zc/data')"
v 'journalctl --sync'
gate=$(v "journalctl -t zkeep-gate --since '$since' --no-pager -o cat")
grep -q 'zfs receive -F -u zo/backups/raw/vm/zc/data' <<<"$gate" || fail "the push did not go through the gate: $gate"
grep -qi 'refused\|not permitted' <<<"$gate" && fail "the gate refused a command: $gate"
v 'python3 -c "import json; r=json.load(open(\"/var/lib/zkeep/pull-vm.json\")); assert r[\"result\"]==\"ok\", r"' ||
	fail "pull run record"

# idempotent: the second apply changes nothing
apply second || fail "second apply:"$'\n'"$(tail -n 40 "$d/second.log")"
recap second | grep -q 'changed=0 .*failed=0' ||
	fail "second apply changed something: $(recap second)"$'\n'"$(grep -B2 '^changed:' "$d/second.log" | head -n 40)"

# The old units and cron entries run (through the links): zkeep's timer for
# the same work stays off, the others stay on. The image has no cron: a
# stand-in crontab lists the old role's entries as `crontab -l` would.
v 'set -e
printf "[Unit]\nAfter=zfs.target\n[Service]\nType=oneshot\nExecStart=/opt/zfs-policy/zfs-snapshot --type hourly\n" \
	>/etc/systemd/system/zfs-snapshot-hourly.service
printf "[Timer]\nOnCalendar=*:00\nRandomizedDelaySec=60\nPersistent=true\n[Install]\nWantedBy=timers.target\n" \
	>/etc/systemd/system/zfs-snapshot-hourly.timer
systemctl daemon-reload
systemctl enable --now zfs-snapshot-hourly.timer 2>/dev/null
printf "#Ansible: zfs-pull-backups vm\n0 10,12,16,20,0 * * * /opt/zfsbackup/scripts/pull-vm.sh >/dev/null\n" >/var/tmp/zk-crontab
if ! command -v crontab >/dev/null; then
	printf "#!/bin/sh\n[ \"\$1\" = -l ] && exec cat /var/tmp/zk-crontab\nexit 1\n" >/usr/local/bin/crontab
	chmod 0755 /usr/local/bin/crontab
else
	crontab -u root /var/tmp/zk-crontab
fi' || fail "the old units and cron entry in the VM"
apply third || fail "third apply:"$'\n'"$(tail -n 40 "$d/third.log")"
recap third | grep -q 'failed=0' || fail "third apply: $(recap third)"
for t in zkeep-snapshot-hourly zkeep-pull@vm; do
	[ "$(v systemctl is-enabled $t.timer)" != enabled ] && ! v systemctl -q is-active $t.timer ||
		fail "$t.timer still on beside the old one"
done
for t in zkeep-snapshot-daily zkeep-snapshot-monthly zkeep-snapshot-yearly zkeep-prune zkeep-report zkeep-push@vm; do
	[ "$(v systemctl is-enabled $t.timer)" = enabled ] || fail "$t.timer not enabled (its old counterpart does not run)"
done
[ "$(v systemctl is-enabled zfs-snapshot-hourly.timer)" = enabled ] || fail "the old hourly timer was touched"
unit zfs-snapshot-hourly.service
for ds in zc/data zc/data/gitea zc/tmp; do
	[ "$(v "zfs list -H -o name -t snapshot $ds | grep -c '@autosnap_.*_hourly\$'")" = 1 ] ||
		fail "the old hourly unit did not snapshot $ds through zkeep"
done

# The wrapper has called the old pull with the later --mqtt-* options
# (seed-system.md 9) since before the first apply, and the switch went on
# beside it (checked after the first apply); through the link the
# seed-named pull publishes its Home Assistant state to the broker (a
# mosquitto of this test's own on 1883, the port mosquitto_pub -h
# assumed; the image's service stopped). Checked here, while the links
# are in place, so that no fifth apply is needed (each costs minutes).
v 'set -e
systemctl stop mosquitto 2>/dev/null || true
printf "listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\npid_file /var/tmp/zk-mosquitto.pid\n" \
	>/var/tmp/zk-mosquitto.conf
mosquitto -d -c /var/tmp/zk-mosquitto.conf' || fail "a broker in the VM"
v 'tail -n 1 /opt/zfsbackup/scripts/pull-vm.sh | sh' >"$d/mqtt-pull.log" 2>&1 ||
	fail "the wrapper's --mqtt pull through the link: $(cat "$d/mqtt-pull.log")"
v 'mosquitto_sub -h 127.0.0.1 -t "homeassistant/binary_sensor/zfs_backups_vm/config" -t "homeinfra/monitoring/zfs/vm/backups" --retained-only -F "%t %p" -W 3' \
	>"$d/mqtt.got" 2>&1 || true
python3 - "$d/mqtt.got" <<'PY' || fail "the wrapper's MQTT state: $(cat "$d/mqtt.got")"
import json, sys
got = dict(l.split(" ", 1) for l in open(sys.argv[1]).read().splitlines())
c = json.loads(got["homeassistant/binary_sensor/zfs_backups_vm/config"])
assert c["state_topic"] == "homeinfra/monitoring/zfs/vm/backups" and c["device_class"] == "safety", c
s = json.loads(got["homeinfra/monitoring/zfs/vm/backups"])
assert list(s) == ["ok", "host", "pulled_at", "stale_datasets", "healthy_datasets"], s
assert s["host"] == "vm" and "zc/data" in s["healthy_datasets"] + s["stale_datasets"], s
PY
v "kill \$(cat /var/tmp/zk-mosquitto.pid)" || true

# rollback in one step: the originals back, the old units still the ones on
apply rollback -e '{"zkeep_replace_seed": false}' ||
	fail "rollback apply:"$'\n'"$(tail -n 40 "$d/rollback.log")"
recap rollback | grep -q 'failed=0' || fail "rollback apply: $(recap rollback)"
for f in $seed_paths; do
	[ "$(v "stat -c %F $f; cat $f; ls $f.seed 2>&1 >/dev/null | wc -l")" = "regular file
#!/bin/sh
echo seed $f
1" ] || fail "$f not restored: $(v "ls -l $f $f.seed")"
done
[ "$(v systemctl is-enabled zkeep-snapshot-hourly.timer)" != enabled ] || fail "rollback enabled zkeep-snapshot-hourly.timer"
[ "$(v "md5sum $untouched")" = "$sums_before" ] || fail "the rollback touched the wrapper, venv or logs"

echo "ansible: first apply $(recap first | sed 's/  */ /g'), second $(recap second | sed 's/  */ /g')," \
	"switch $(recap third | sed 's/  */ /g'), rollback $(recap rollback | sed 's/  */ /g')"
# where the time went (ansible.posix.profile_tasks' summary, slowest first)
for n in first second; do
	echo "ansible: slowest tasks of the $n apply:"
	sed -n '/^=\{20,\}/,$p' "$d/$n.log" | sed -n '2,7p'
done
