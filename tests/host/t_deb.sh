# needs: vm
# cost: 120 (seconds, about: tests/run starts the longest first)
# needs: deb (tests/run builds one .deb per run and passes it as ZKEEP_TEST_DEB)
# The .deb: builds from a copy of the tree, lintian finds no errors, installs
# into the test VM (OpenZFS 2.3) where zkeep, the seed-name symlinks, the man
# pages, the units and the conffile are where they belong and nothing is
# enabled; an edited config survives a reinstall; purge removes it all.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
d=$(mktemp -d)
vm=zkeep-deb-$$
trap 'tests/vm/vm stop $vm >/dev/null 2>&1 || true; rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=${ZKEEP_TEST_DEB:-}
[ -n "$deb" ] || deb=$(scripts/build-deb "$d" | grep -v dbgsym) || fail "scripts/build-deb"
[ -f "$deb" ] || fail "no .deb built"
[ -z "$(git status --porcelain --ignored debian | grep -v '^ ' || true)" ] ||
	fail "the build left files in debian/: $(git status --porcelain --ignored debian)"
version=$(dpkg-deb -f "$deb" Version)
lint=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
if grep -q '^E:' <<<"$lint"; then fail "lintian errors:"$'\n'"$lint"; fi
[ -n "$lint" ] && echo "lintian (no errors): $lint"
dpkg-deb -c "$deb" >"$d/contents"
grep -q ' ./etc/zkeep/zkeep.conf$' "$d/contents" || fail "no /etc/zkeep/zkeep.conf in the package"
dpkg-deb -e "$deb" "$d/ctl"
grep -qx /etc/zkeep/zkeep.conf "$d/ctl/conffiles" || fail "zkeep.conf is not a conffile"

tests/vm/vm start 2.3 $vm >/dev/null 2>"$d/vm.log" || fail "vm start: $(cat "$d/vm.log")"
v() { tests/vm/vm ssh $vm "$@"; }
tests/vm/vm put $vm "$deb" /var/tmp/zkeep.deb
v 'dpkg -s zkeep >/dev/null 2>&1' && fail "zkeep already installed in a fresh VM"
v 'dpkg -i /var/tmp/zkeep.deb' >"$d/install.log" 2>&1 || fail "dpkg -i: $(cat "$d/install.log")"

[ "$(v zkeep --version)" = "zkeep $version" ] || fail "zkeep --version: $(v zkeep --version)"
for n in zfs-snapshot zfs-prune zfs-snapshot-report zfs-pull-backups zfs-push-backups zfs-api; do
	[ "$(v readlink /usr/bin/$n)" = zkeep ] || fail "no symlink /usr/bin/$n"
	v "$n --help" | grep -q "or: $n" || fail "$n does not dispatch"
	v "test -e /usr/share/man/man1/$n.1.gz" || fail "no man page for $n"
done
for m in zkeep zkeep-snapshot zkeep-prune zkeep-report zkeep-pull zkeep-push zkeep-status zkeep-gate; do
	v "test -f /usr/share/man/man1/$m.1.gz" || fail "no man page $m"
done
units="zkeep-snapshot-hourly.timer zkeep-snapshot-daily.timer zkeep-snapshot-monthly.timer
	zkeep-snapshot-yearly.timer zkeep-prune.timer zkeep-report.timer zkeep-pull@.timer
	zkeep-push@.timer zkeep-pull@.service zkeep-push@.service zkeep-snapshot-hourly.service"
for u in $units; do
	v "test -f /lib/systemd/system/$u" || fail "unit $u not installed"
done
# installed, not enabled, nothing running (README.Debian says why)
enabled=$(v 'systemctl list-unit-files "zkeep*" --state=enabled --no-legend' || true)
[ -z "$enabled" ] || fail "units enabled by the package: $enabled"
out=$(v 'systemd-analyze verify --man=no /lib/systemd/system/zkeep-*.timer /lib/systemd/system/zkeep-*.service' 2>&1) ||
	fail "systemd-analyze verify: $out"
v 'test -d /var/lib/zkeep && test -f /usr/share/doc/zkeep/zkeep.conf.example &&
	test -f /usr/share/zkeep/ansible/site.yml && test -f /usr/share/zkeep/systemd/zkeep-pull@.service' ||
	fail "state dir, example or deploy files missing"
# the shipped config is accepted as it is (no datasets: a no-op snapshot run)
out=$(v 'zkeep snapshot --type hourly --dry-run' 2>&1) || fail "the shipped config: $out"

# the admin's edit survives a reinstall of the package
v 'echo "# edited by the admin" >>/etc/zkeep/zkeep.conf'
v 'dpkg -i --force-confold /var/tmp/zkeep.deb' >"$d/re.log" 2>&1 || fail "reinstall: $(cat "$d/re.log")"
v 'grep -q "edited by the admin" /etc/zkeep/zkeep.conf' || fail "reinstall replaced the admin's config"

# remove keeps the conffile, purge removes everything
v 'echo "{}" >/var/lib/zkeep/pull-x.json'
v 'dpkg -r zkeep' >/dev/null 2>&1 || fail "dpkg -r"
v 'test ! -e /usr/bin/zkeep && test ! -e /usr/bin/zfs-prune && test -f /etc/zkeep/zkeep.conf' ||
	fail "after remove: binary or symlinks left, or the config gone"
v 'dpkg -P zkeep' >/dev/null 2>&1 || fail "dpkg -P"
left=$(v 'ls -d /etc/zkeep /var/lib/zkeep /lib/systemd/system/zkeep* /usr/share/man/man1/zkeep* \
	/usr/share/man/man1/zfs-snapshot.1.gz /usr/share/zkeep /usr/share/doc/zkeep 2>/dev/null' || true)
[ -z "$left" ] || fail "left after purge: $left"
echo "deb: $(basename "$deb") built, lintian clean of errors, installed, removed and purged"
