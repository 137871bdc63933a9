# needs: vm
# cost: 150 (seconds, about: tests/run starts the longest first)
# The /ui/ status page, live: two real `zkeep api`s with an API key in the
# QEMU test VM on real OpenZFS (a pool with a policy dataset and its
# snapshots, a backup pool filled by a real `zkeep pull` over ssh to
# localhost, so there is a run record), their ports forwarded over the VM's
# ssh; a real victoria-metrics on loopback scrapes the first; the second has
# history_url pointing at that victoria-metrics through a reverse tunnel.
# A second pull has the long names a real backup server has (its job, its
# datasets and so its targets). Headless Chromium renders the page (through
# a proxy that adds the key, as a browser cannot); the DOM must show the
# pool, dataset and backup rows.
# Checks:
#  - /ui/ without the key is 401; / stays JSON unless Accept prefers HTML;
#  - without history_url: no sparklines;
#  - with it, once victoria-metrics holds a few scrapes: a capacity
#    sparkline (an SVG polyline) on the pool's row, an age sparkline on the
#    backup's;
#  - with and without sparklines, the page fits a 1280x800 window with its
#    scroll bar: nothing wider than the window (the backups table once ran
#    to 1440 px, its newest-snapshot column cut off and each last-success
#    cell wrapped to five lines);
#  - victoria-metrics gone: the page loses the sparklines and the api says
#    why in its log; requests keep being answered.
# Screenshots are saved to $ZKEEP_ARTIFACTS/ui.png and ui-1280-*.png
# (default build/artifacts), the latter also in the test's temp dir.
# About 3 minutes. OpenZFS flavour: ZKEEP_MON_FLAVOUR (default 2.3).
source "$(dirname "$0")/monitoring/lib.sh"
BUILD=${ZKEEP_BUILD:-build}
ZK=$TOP/$BUILD/zkeep
[ -x "$ZK" ] || fail "no $ZK (make first)"
command -v chromium >/dev/null || fail "missing chromium (scripts/install-deps installs it)"
ART=${ZKEEP_ARTIFACTS:-$TOP/build/artifacts}
mkdir -p "$ART"
vm_boot zkui-$$
vm_put "$ZK" /opt/zkui
key=k$RANDOM$RANDOM$RANDOM
# the api with history asks victoria-metrics at the VM's 127.0.0.1:HPORT,
# which the tunnel below takes to the host's victoria-metrics
hport=18428
vssh_in "ZKUI_KEY=$key ZKUI_HPORT=$hport bash -s" >"$T/setup.log" 2>&1 <<'SETUP' || { cat "$T/setup.log"; fail "setup in the VM"; }
set -eux
truncate -s 256M /var/tmp/zkui-a /var/tmp/zkui-b
zpool create -f zkui /var/tmp/zkui-a
zpool create -f zkuib /var/tmp/zkui-b
zfs create zkui/data
dd if=/dev/urandom of=/zkui/data/f bs=64k count=16 status=none
zfs allow zkb mount,send,hold,snapshot,destroy,release zkui
mkdir -p /var/tmp/zkui-st /var/tmp/zkui-locks
cat >/var/tmp/zkui.conf <<CONF
[global]
state_dir = /var/tmp/zkui-st
lock_dir = /var/tmp/zkui-locks
[dataset zkui/data]
policy = low
[api]
api_key_file = /var/tmp/zkui-key
CONF
# the same, with history: 3 minutes of it, about what the test gathers
{ cat /var/tmp/zkui.conf; echo "history_url = http://127.0.0.1:$ZKUI_HPORT"; echo "history_range = 180"; } >/var/tmp/zkui-h.conf
printf '%s' "$ZKUI_KEY" >/var/tmp/zkui-key
chmod 600 /var/tmp/zkui-key
Z=/opt/zkui/zkeep
C="--config /var/tmp/zkui.conf"
$Z snapshot $C --type hourly
$Z snapshot $C --type daily
$Z pull $C --host localhost --user zkb --destination zkuib --name h --datasets zkui/data
test -s /var/tmp/zkui-st/pull-h.json
# long names, with no policy (nothing more needs attention): two more rows
L=zkui/services/postgresql-production-cluster-main
zfs create -p $L/replica-01
zfs snapshot -r $L@initial-seed-before-the-migration
$Z pull $C --host localhost --user zkb --destination zkuib --name nightly-offsite-replication --datasets $L
test -s /var/tmp/zkui-st/pull-nightly-offsite-replication.json
setsid $Z api $C --listen 127.0.0.1:8000 --interval 2 </dev/null >/var/tmp/zkui-api.log 2>&1 &
setsid $Z api --config /var/tmp/zkui-h.conf --listen 127.0.0.1:8001 --interval 5 </dev/null >/var/tmp/zkui-api-h.log 2>&1 &
for port in 8000 8001; do
	for i in $(seq 1 100); do
		curl -s -H "X-API-Key: $ZKUI_KEY" 127.0.0.1:$port/ui/ | grep -q 'data-pool="zkui"' && continue 2
		sleep 0.5
	done
	cat /var/tmp/zkui-api*.log
	exit 1
done
SETUP

# victoria-metrics scrapes the first api through the tunnel, every 2 s
pa=$(free_port)
pb=$(free_port)
cat >"$T/scrape.yml" <<EOF
scrape_configs:
  - job_name: zfs
    scrape_interval: 2s
    scrape_timeout: 2s
    headers:
      - "X-API-Key: $key"
    static_configs:
      - targets: ["127.0.0.1:$pa"]
        labels: {service: zfs-api}
EOF
vm_start -promscrape.config="$T/scrape.yml"
vm_pid=${_pids[${#_pids[@]} - 1]}
vm_port=${VM##*:}

# one ssh: the two apis out, victoria-metrics in
vm_forward -L "127.0.0.1:$pa:127.0.0.1:8000" -L "127.0.0.1:$pb:127.0.0.1:8001" \
	-R "127.0.0.1:$hport:127.0.0.1:$vm_port"
wait_http "http://127.0.0.1:$pa/api/v1/health" 30
wait_http "http://127.0.0.1:$pb/api/v1/health" 30
A=http://127.0.0.1:$pa
B=http://127.0.0.1:$pb

# --- auth: the page is behind the key like every other endpoint
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$A/ui/")" = 401 ] || fail "/ui/ without the key: not 401"
[ "$(code -H "X-API-Key: wrong" "$A/ui/")" = 401 ] || fail "/ui/ with a wrong key: not 401"
[ "$(code -H "X-API-Key: $key" "$A/ui/")" = 200 ] || fail "/ui/ with the key: not 200"
ct=$(curl -s -o /dev/null -w '%{content_type}' -H "X-API-Key: $key" "$A/ui/")
[ "$ct" = "text/html; charset=utf-8" ] || fail "/ui/ content type '$ct'"
# / stays the seed's JSON for API clients; a browser is sent to /ui/
curl -fsS -H "X-API-Key: $key" "$A/" | jq -e '.openapi == "/api/openapi.json"' >/dev/null ||
	fail "/ without Accept is not the seed's JSON"
curl -fsS -H "X-API-Key: $key" -H 'Accept: application/json' "$A/" | jq -e .message >/dev/null ||
	fail "/ with Accept: application/json is not JSON"
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "X-API-Key: $key" \
	-H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' "$A/")
[ "$loc" = "303 $A/ui/" ] || fail "/ for a browser: '$loc', want a 303 to /ui/"

# --- headless Chromium, through a proxy that adds the key (keyproxy.py)
chrome() {
	# root needs --no-sandbox; a profile of its own keeps $HOME clean; no
	# traffic of its own
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$T/chromium" "$@" \
		2>>"$T/chromium.log"
}
# row FILE ATTRS: the <tr> of FILE whose attributes start with ATTRS
row() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
page, attrs = open(sys.argv[1]).read(), sys.argv[2]
i = page.find(attrs)
if i < 0:
    sys.exit(1)
print(page[i:page.index("</tr>", i)])
PY
}
# check_rows FILE: the pool, dataset and backup rows of what the VM holds
check_rows() {
	local r
	r=$(row "$1" 'class="pool" data-pool="zkui"') || fail "no row for pool zkui in $1"
	grep -q '<span class="b ok">ONLINE</span>' <<<"$r" || fail "pool zkui not shown ONLINE: $r"
	grep -q '<svg class="cap"' <<<"$r" || fail "pool zkui has no capacity bar: $r"
	row "$1" 'class="pool" data-pool="zkuib"' >/dev/null || fail "no row for pool zkuib in $1"
	r=$(row "$1" 'class="dataset" data-dataset="zkui/data"') || fail "no compliance row for zkui/data"
	grep -q '<td>low</td>' <<<"$r" || fail "zkui/data not under policy low: $r"
	grep -q '<span class="b [a-z]*">1/3</span>' <<<"$r" || fail "zkui/data hourly not 1/3: $r"
	r=$(row "$1" 'class="backup" data-job="h" data-source="zkui/data"') ||
		fail "no backup row for the pull of zkui/data"
	grep -q 'zkuib/h/zkui/data' <<<"$r" || fail "backup row lacks its target: $r"
	grep -q '<span class="b ok">ok</span>' <<<"$r" || fail "backup row not ok: $r"
	grep -q '<span class="b ok">[0-9]*m ago</span>' <<<"$r" || fail "backup age not fresh: $r"
	local l=zkui/services/postgresql-production-cluster-main d
	for d in $l $l/replica-01; do
		r=$(row "$1" "class=\"backup\" data-job=\"nightly-offsite-replication\" data-source=\"$d\"") ||
			fail "no backup row for the pull of $d"
		grep -q "zkuib/nightly-offsite-replication/$d<" <<<"$r" || fail "row of $d lacks its target: $r"
		grep -q '<span class="b ok">ok</span>' <<<"$r" || fail "backup of $d not ok: $r"
	done
	# one hourly snapshot of the three policy low keeps: that, and only
	# that, needs attention
	r=$(grep -o '<div class="att" id="attention" data-state="warning">.*</div>' "$1") || fail "no attention list in $1"
	grep -q '<li class="warning">warning: snapshots of zkui/data are short of policy low: hourly 1/3' <<<"$r" ||
		fail "the attention list misses zkui/data: $r"
	[ "$(grep -o '<li' <<<"$r" | wc -l)" = 1 ] || fail "the page sees more wrong than that: $r"
}

# fits_1280 FILE NAME: the page FILE, as served, in a 1280x800 window with
# the scroll bar a desktop browser shows: nothing may be wider than the
# window. The page has no script (and must get none), so a copy with a
# probe is measured; a screenshot of the page itself goes to $T and $ART.
fits_1280() {
	local probe=$T/$2-probe.html m
	/usr/bin/python3 - "$1" "$probe" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
probe = """<script>(function () {
  var d = document.documentElement, wide = [];
  document.querySelectorAll("[id]").forEach(function (e) {
    var r = e.getBoundingClientRect().right;
    if (r > d.clientWidth) wide.push(e.id + " to " + Math.ceil(r) + " px");
  });
  var p = document.createElement("pre");
  p.id = "zk-layout";
  p.textContent = "inner=" + innerWidth + " client=" + d.clientWidth +
    " scroll=" + d.scrollWidth + " wide=" + wide.join(", ");
  document.body.appendChild(p);
})();</script>"""
if page.count("</body>") != 1:
    sys.exit(sys.argv[1] + " has no single </body>")
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", probe + "</body>"))
PY
	m=$(chrome --window-size=1280,800 --dump-dom "file://$probe" | grep -o 'id="zk-layout">[^<]*') ||
		fail "no layout probe in Chromium's DOM of $2"
	m=${m#*>}
	echo "layout at 1280x800 ($2): $m"
	chrome --window-size=1280,800 --screenshot="$T/ui-1280-$2.png" "file://$1" >/dev/null ||
		fail "chromium --screenshot of $2"
	cp "$T/ui-1280-$2.png" "$ART/"
	[[ $m == "inner=1280 "* ]] || fail "the window is not 1280 px wide: $m"
	local client=${m#* client=} scroll=${m#* scroll=}
	client=${client%% *} scroll=${scroll%% *}
	[ "$scroll" -le "$client" ] ||
		fail "/ui/ ($2) overflows a 1280 px window: $scroll px wide in $client; ${m#* wide=}; see $ART/ui-1280-$2.png"
}

py_start "$MON/keyproxy.py" "$A" "$key"
PA=$PY_URL
chrome --dump-dom "$PA/ui/" >"$T/a.html" || fail "chromium --dump-dom of /ui/"
check_rows "$T/a.html"
curl -fsS "$PA/ui/" >"$T/a-served.html" || fail "GET /ui/"
fits_1280 "$T/a-served.html" plain
grep -q 'class="spark"' "$T/a.html" && fail "sparklines without history_url"
grep -q '<th>history</th>' "$T/a.html" && fail "a history column without history_url"

# --- history: once victoria-metrics has a few scrapes of the first api
ok=0
for _ in $(seq 1 90); do
	n=$(vm_query 'count_over_time(zfs_pool_capacity_percent{job="zfs",pool="zkui"}[10m])' |
		jq -r '.data.result[0].value[1] // 0')
	[ "$n" -ge 5 ] && { ok=1; break; }
	sleep 1
done
[ $ok = 1 ] || fail "zkeep api's metrics never arrived in victoria-metrics"
py_start "$MON/keyproxy.py" "$B" "$key"
PB=$PY_URL
# the api with history fetches it every 30 s at most
ok=0
for _ in $(seq 1 60); do
	curl -fsS "$PB/ui/" >"$T/b-curl.html" 2>/dev/null &&
		row "$T/b-curl.html" 'class="pool" data-pool="zkui"' | grep -q 'class="spark"' &&
		row "$T/b-curl.html" 'class="backup" data-job="h"' | grep -q 'class="spark"' && { ok=1; break; }
	sleep 2
done
[ $ok = 1 ] || {
	vssh 'cat /var/tmp/zkui-api-h.log' || true
	fail "no sparklines for pool zkui and the backup with history_url set"
}
chrome --dump-dom "$PB/ui/" >"$T/b.html" || fail "chromium --dump-dom of /ui/ with history"
check_rows "$T/b.html"
grep -q '<th>history</th>' "$T/b.html" || fail "no history column with history_url"
r=$(row "$T/b.html" 'class="pool" data-pool="zkui"')
# a line of at least two points inside the 160x28 box
pts=$(grep -o '<polyline[^>]*points="[^"]*"' <<<"$r" | sed 's/.*points="//; s/"$//')
[ "$(wc -w <<<"$pts")" -ge 2 ] || fail "sparkline of zkui has fewer than 2 points: $r"
for p in $pts; do
	awk -F, -v p="$p" '{ if (!($1 >= 0 && $1 <= 160 && $2 >= 0 && $2 <= 28)) exit 1 }' <<<"$p" ||
		fail "sparkline point $p outside its box"
done
r=$(row "$T/b.html" 'class="backup" data-job="h" data-source="zkui/data"')
grep -q '<svg class="spark"[^>]*aria-label="age of the last success' <<<"$r" ||
	fail "no age sparkline on the backup's row: $r"
grep -q '<th>age history</th>' "$T/b.html" || fail "no age history column with history_url"
fits_1280 "$T/b-curl.html" history
chrome --window-size=1280,1000 --hide-scrollbars --screenshot="$ART/ui.png" "$PB/ui/" >/dev/null ||
	fail "chromium --screenshot"
[ "$(head -c 8 "$ART/ui.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
	fail "the screenshot is not a PNG"
echo "screenshot: $ART/ui.png"

# --- victoria-metrics gone: no sparklines, a log line, the page still served
kill "$vm_pid"
ok=0
for _ in $(seq 1 45); do
	curl -fsS "$PB/ui/" >"$T/c.html" 2>/dev/null && ! grep -q 'class="spark"' "$T/c.html" && { ok=1; break; }
	sleep 2
done
[ $ok = 1 ] || fail "sparklines still shown after victoria-metrics stopped"
check_rows "$T/c.html"
vssh 'grep "history for /ui/ from" /var/tmp/zkui-api-h.log' >"$T/hlog" ||
	fail "the api did not log why the history is gone"
echo "api log: $(tail -1 "$T/hlog")"
echo "PASS t_ui"
