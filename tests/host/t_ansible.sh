# needs: vm
# cost: 240 (seconds, about: tests/run starts the longest first)
# needs: deb (tests/run builds one .deb per run and passes it as ZKEEP_TEST_DEB)
# The Ansible role, applied over ssh to the test VM (OpenZFS 2.3) playing
# every part at once: client (pool zc), backup server (pool zb) and offsite
# host (pool zo), pools made of files. After one apply: the package is
# installed, the timers enabled, the policy snapshot service snapshots, one
# pull job and one restricted push job (through zkeep gate --compat seed)
# complete under systemd; a second apply changes nothing.
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
for ds in zc/data zc/data/sub zc/web zc/tmp; do zfs list $ds >/dev/null 2>&1 || zfs create $ds; done
# as in the fleet, the backup parent is encrypted: plain streams pulled
# into it inherit that, and the raw push sends ciphertext only
[ -s /var/tmp/zk-key ] || od -An -tx1 -N32 /dev/urandom | tr -d " \n" >/var/tmp/zk-key
zfs list zb/backups >/dev/null 2>&1 ||
	zfs create -o encryption=on -o keyformat=hex -o keylocation=file:///var/tmp/zk-key -o canmount=off zb/backups
dd if=/dev/urandom of=/zc/data/f bs=64k count=16 status=none
mkdir -p /var/tmp/zk-traefik' || fail "pools in the VM"

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
          zfs:
            zc/data: {policy: critical, snapshots_discover_children: true}
            zc/web: {policy: high}
            zc/tmp: {policy: low}
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

apply() { (cd deploy/ansible && ANSIBLE_NOCOLOR=1 ansible-playbook -i "$d/hosts.yml" site.yml) >"$d/$1.log" 2>&1; }
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
[ "$(v systemctl show -P ExecStart zkeep-pull@vm.service | grep -o 'argv\[\]=[^;]*')" = "argv[]=/usr/bin/zkeep pull --job vm " ] ||
	fail "zkeep-pull@vm.service: $(v systemctl show -P ExecStart zkeep-pull@vm.service)"
v 'grep -q "^command=\"/usr/bin/zkeep gate --compat seed --prefix zo/backups/raw\",restrict ssh-ed25519 " \
	/var/lib/zfsoffsite/.ssh/authorized_keys' || fail "no gated key for the offsite user"
v 'zfs allow zc/data' | grep -q 'user zfsbackup .*send' || fail "no delegation on zc/data: $(v zfs allow zc/data)"
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
unit zkeep-pull@vm.service
for ds in zc/data zc/data/sub zc/web; do
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
echo "ansible: first apply $(recap first | sed 's/  */ /g'), second $(recap second | sed 's/  */ /g')"
