# make install: the binary, the seed-name symlinks and the man pages land
# under DESTDIR/PREFIX, and the symlinks dispatch to the right subcommand.
set -euo pipefail
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
make -s install DESTDIR="$d" PREFIX=/usr BUILD="${ZKEEP_BUILD:-build}" >/dev/null
test -x "$d/usr/bin/zkeep"
for n in zfs-snapshot zfs-prune zfs-snapshot-report zfs-pull-backups zfs-push-backups zfs-api; do
	[ "$(readlink "$d/usr/bin/$n")" = zkeep ] || { echo "no symlink $n"; exit 1; }
	"$d/usr/bin/$n" --help | grep -q "or: $n" || { echo "$n does not dispatch"; exit 1; }
done
test -f "$d/usr/share/man/man1/zkeep.1"
test -f "$d/usr/share/man/man1/zkeep-status.1"
make -s uninstall DESTDIR="$d" PREFIX=/usr >/dev/null
test ! -e "$d/usr/bin/zkeep"
test ! -e "$d/usr/bin/zfs-api"
