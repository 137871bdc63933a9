# Sourced by host tests whose zkeep runs against a fake zpool (put in a
# tmpfs over /usr/local/sbin, first in zkeep's fixed PATH, by the test):
# fake_zpool FILE writes one serving the OpenZFS 2.3 fixtures (pools deg
# and fixt; `zpool status -p deg` the degraded one). Needs $top.
fake_zpool() {
	local fx=$top/tests/fixtures/2.3
	cat >"$1" <<SH
#!/bin/sh
case "\$*" in
list\ *) cat "$fx/zpool-list.out" ;;
status\ -p\ deg) cat "$fx/zpool-status-degraded.out" ;;
status\ *) cat "$fx/zpool-status.out" ;;
*) echo "fake zpool: \$*" >&2; exit 1 ;;
esac
SH
	chmod 755 "$1"
}
