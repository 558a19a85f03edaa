#!/usr/bin/env bash
# Regenerates the README screenshots: builds sockscope, starts a small socket population on
# loopback, runs the dashboard in tmux, drives it with send-keys to four states and renders each
# capture (tmux capture-pane -e → aha → headless Chromium) to a PNG in screenshots/. Then it
# adds a troubled server (screenshots/troubled-scene.cjs: a full accept queue with clients left in
# SYN-SENT, a CLOSE_WAIT pile on one port, ESTABLISHED traffic, TIME_WAIT churn), lets three
# dashboards watch it for TROUBLED_SECONDS (default 45) so the history chart has real samples and
# the findings fire, and captures them in colour, in monochrome (NO_COLOR=1) and at 80x24.
# Last, a load test (screenshots/load-test-scene.cjs: paced loopback streams of different rates
# from five client processes, and 300 idle pooled connections): the socket table sorted by Out/s
# (load-test.png), the by-process view sorted by Out/s (load-test-by-process.png) and the details
# of the busiest stream with its rate trend (load-test-details.png).
#
#   screenshots/capture.sh                    # needs tmux, aha, chromium (Debian packages), perl, Node 20
#   screenshots/capture.sh load-test          # only some scenes: basic, troubled, load-test
#
# Not part of npm test. Everything it starts (tmux server, load generator, troubled scene and its
# perl listener, Chromium profile) is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/screenshots
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sockscope-shots.XXXXXX")
SOCKET=sockscope-shots-$$
LOAD_PID=
SCENE_PID=
NETNS_PID=
TROUBLED_SECONDS=${TROUBLED_SECONDS:-45}
LOAD_TEST_PID=
SCENES=("$@")
((${#SCENES[@]} > 0)) || SCENES=(basic troubled load-test)
want() { [[ " ${SCENES[*]} " == *" $1 "* ]]; }
for scene in "${SCENES[@]}"; do
  case $scene in
    basic | troubled | load-test) ;;
    *) echo "capture.sh: unknown scene '$scene' (basic, troubled, load-test)" >&2; exit 2 ;;
  esac
done

cleanup() {
  tmux -L "$SOCKET" kill-server 2>/dev/null || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCKET" # tmux leaves its socket file behind
  if [[ -n $LOAD_PID ]]; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  if [[ -n $SCENE_PID ]]; then
    kill -TERM "$SCENE_PID" 2>/dev/null || true # it stops its perl listener itself
    wait "$SCENE_PID" 2>/dev/null || true
  fi
  if [[ -n $LOAD_TEST_PID ]]; then
    kill -TERM "$LOAD_TEST_PID" 2>/dev/null || true # it stops its client processes itself
    wait "$LOAD_TEST_PID" 2>/dev/null || true
  fi
  if [[ -n $NETNS_PID ]]; then
    kill -TERM "$NETNS_PID" 2>/dev/null || true
    wait "$NETNS_PID" 2>/dev/null || true
  fi
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in tmux aha chromium node perl ss; do
  command -v "$tool" >/dev/null || { echo "capture.sh: $tool is not installed" >&2; exit 1; }
done

cd "$ROOT"
echo "building…"
npx tsc -p tsconfig.json

# ---- a network namespace of its own ----------------------------------------------------------
# Loopback sockets of other programs (test suites, benchmarks) would crowd the screenshots and
# slow the refresh: when it may (root), the script runs the population, the scenes, the
# dashboards and its ss checks in a fresh network namespace whose only interface is lo.
IN_NS=()
if unshare -n -- true 2>/dev/null && command -v nsenter >/dev/null && command -v ip >/dev/null; then
  unshare -n -- sh -c 'ip link set lo up && exec sleep 86400' &
  NETNS_PID=$!
  for _ in $(seq 1 50); do
    [[ $(readlink "/proc/$NETNS_PID/ns/net" 2>/dev/null) != "$(readlink /proc/self/ns/net)" ]] && break
    sleep 0.1
  done
  IN_NS=(nsenter "--net=/proc/$NETNS_PID/ns/net" --)
  echo "running in a network namespace of its own"
else
  echo "capture.sh: cannot make a network namespace (not root?): other loopback sockets will show" >&2
fi

if want basic; then
  # ---- a small, varied socket population on loopback ----------------------------------------
  if [[ -f dist/bench/loadgen-cli.js ]]; then
    "${IN_NS[@]}" node dist/bench/loadgen-cli.js --established 300 --close-wait 40 --time-wait 60 --churn 10 >"$WORK/load.json" 2>"$WORK/load.err" &
  else
    # Fallback: one listener, 50 connections, 5 of them half-closed (CLOSE_WAIT / FIN_WAIT2).
    "${IN_NS[@]}" node -e '
      const net = require("node:net");
      const held = [];
      const server = net.createServer({ allowHalfOpen: true }, (s) => { held.push(s); s.resume(); });
      server.listen(0, "127.0.0.1", () => {
        const port = server.address().port;
        let open = 0;
        for (let i = 0; i < 50; i++) {
          const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => {
            held.push(c);
            if (i < 5) c.end();
            if (++open === 50) console.log(JSON.stringify({ ready: true, listeners: [{ kind: "established", port }] }));
          });
        }
      });
      process.on("SIGTERM", () => process.exit(0));
    ' >"$WORK/load.json" &
  fi
  LOAD_PID=$!

  for _ in $(seq 1 600); do
    [[ -s $WORK/load.json ]] && break
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "capture.sh: the load generator stopped:" >&2; cat "$WORK/load.err" >&2 2>/dev/null || true; exit 1; }
    sleep 0.1
  done
  [[ -s $WORK/load.json ]] || { echo "capture.sh: the load generator did not get ready" >&2; exit 1; }
  PORT=$(node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").split("\n")[0]);
    console.log(j.listeners.find((l) => l.kind === "established").port)' "$WORK/load.json")
  echo "load ready; its ESTABLISHED connections go to port $PORT"
fi

# ---- tmux driving -------------------------------------------------------------------------
t() { tmux -L "$SOCKET" -f /dev/null "$@"; }

TARGET=shots # the tmux session that wait_for, keys and shot act on

stop_tmux() { # kill-server returns before the server has gone: a new-session meanwhile fails
  t kill-server 2>/dev/null || true
  for _ in $(seq 1 50); do
    t list-sessions >/dev/null 2>&1 || break
    sleep 0.1
  done
  sleep 0.3
}

start() { # cols rows [session [extra env assignments…]]: a fresh tmux server, one dashboard
  stop_tmux
  add "$@"
}

add() { # cols rows [session [extra env assignments…]]: one more dashboard on the same server
  local cols=$1 rows=$2 name=${3:-shots}
  shift 2
  (($# > 0)) && shift
  t new-session -d -s "$name" -x "$cols" -y "$rows" -c "$ROOT" \
    "${IN_NS[*]} env -u LC_ALL -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 NCURSES_NO_UTF8_ACS=1 $* node bin/sockscope; sleep 60"
  TARGET=$name
}

wait_for() { # extended regexp, [timeout seconds]
  local deadline=$((SECONDS + ${2:-30}))
  until t capture-pane -p -t "$TARGET" | grep -Eq -- "$1"; do
    if ((SECONDS > deadline)); then
      echo "capture.sh: timed out waiting for /$1/; the screen was:" >&2
      t capture-pane -p -t "$TARGET" >&2
      exit 1
    fi
    sleep 0.1
  done
}

keys() { # tmux key names or literal text, one at a time (Escape must not merge with what follows)
  local k
  for k in "$@"; do
    case $k in
      Escape | Enter | Tab | BTab | Space | Up | Down | NPage | PPage | C-?) t send-keys -t "$TARGET" "$k" ;;
      *) t send-keys -t "$TARGET" -l "$k" ;;
    esac
    sleep 0.15
  done
}

shot() { # name cols rows
  local name=$1 cols=$2 rows=$3
  t capture-pane -e -p -t "$TARGET" >"$WORK/$name.ans"
  # aha draws reverse video as white on black (invisible here) and keeps a stale foreground
  # under it: spell the selection bar out as black on light grey first. Then a terminal-like
  # palette instead of aha's HTML colour names, and braille (the history chart), which DejaVu
  # Sans Mono lacks, held to one cell each so the fallback font does not shift the columns.
  {
    printf '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
    printf 'html,body{margin:0;background:#000}'
    printf '.c{display:inline-block;width:1ch;height:16px;vertical-align:top;overflow:hidden}'
    printf '</style></head><body>\n'
    printf '<pre style="font:14px/16px '\''DejaVu Sans Mono'\'';background:#000;color:#ddd;margin:0;padding:8px">'
    perl -pe 's/\e\[7m(?:\e\[39m)?/\e[30;47m/g; s/\e\[27m/\e[39;49m/g' "$WORK/$name.ans" |
      aha --no-header |
      perl -CSD -pe '
        s/filter: contrast\(70%\) brightness\(190%\);color:dimgray;/color:#767676;/g;
        my %c = (dimgray => "#000000", black => "#000000", red => "#cd3131", green => "#0dbc79", olive => "#e5e510",
                 blue => "#2472c8", purple => "#bc3fbc", teal => "#11a8cd", gray => "#e5e5e5");
        s/(color|background-color):(dimgray|black|red|green|olive|blue|purple|teal|gray);/"$1:$c{$2};"/ge;
        s/([\x{2800}-\x{28FF}])/<span class="c">$1<\/span>/g;'
    printf '</pre></body></html>\n'
  } >"$WORK/$name.html"
  # DejaVu Sans Mono advances 0.602 em: 8.43 px a column at 14 px; 16 px a row; 8 px padding.
  local width=$(((cols * 843 + 99) / 100 + 16)) height=$((rows * 16 + 16))
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-quic \
    --user-data-dir="$WORK/chromium-profile" --hide-scrollbars --window-size="$width,$height" \
    --screenshot="$OUT/$name.png" "file://$WORK/$name.html" >/dev/null 2>&1
  [[ -s $OUT/$name.png ]] || { echo "capture.sh: chromium wrote no $name.png" >&2; exit 1; }
  echo "wrote screenshots/$name.png (${width}x${height})"
}

if want basic; then
  # Main view at 120x36: let a few refreshes fill the history chart first.
  start 120 36
  wait_for 'shown [0-9]'
  sleep 8
  shot main 120 36

  # Grouped by port.
  keys 2
  wait_for 'By port'
  sleep 1.5
  shot by-port 120 36

  # Details of an ESTABLISHED socket of the load generator (its server side), with tcp_info.
  keys 1 / C-u "state established and sport $PORT" Enter
  wait_for "filter: state established and sport $PORT"
  keys Enter
  wait_for 'Details'
  wait_for 'tcp_info \(from ss\)' 10
  sleep 1.5
  shot details 120 36

  # Help overlay.
  keys Escape c '?'
  wait_for 'Help'
  sleep 0.5
  shot help 120 36

  # Main view at 80x24.
  start 80 24
  wait_for 'shown [0-9]'
  sleep 5
  shot main-80x24 80 24
  stop_tmux
fi

# ---- a troubled server --------------------------------------------------------------------
if want troubled; then
  # (If this script is killed without running its trap, the scene notices and stops itself.)
  "${IN_NS[@]}" node screenshots/troubled-scene.cjs >"$WORK/scene.json" 2>"$WORK/scene.err" &
  SCENE_PID=$!
  for _ in $(seq 1 300); do
    [[ -s $WORK/scene.json ]] && break
    kill -0 "$SCENE_PID" 2>/dev/null || { echo "capture.sh: the troubled scene stopped:" >&2; cat "$WORK/scene.err" >&2; exit 1; }
    sleep 0.1
  done
  [[ -s $WORK/scene.json ]] || { echo "capture.sh: the troubled scene did not get ready" >&2; exit 1; }
  port_of() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).ports[process.argv[2]])' "$WORK/scene.json" "$1"; }
  STUCK=$(port_of stuck)
  LEAKY=$(port_of leaky)
  echo "troubled scene ready: full accept queue on port $STUCK, CLOSE_WAIT pile on port $LEAKY"

  # Three dashboards watch the same scene from the start, so each has the same history.
  start 160 45 troubled
  add 160 45 troubled-mono NO_COLOR=1
  add 80 24 troubled-80x24
  sleep "$TROUBLED_SECONDS"
  echo "ss: $("${IN_NS[@]}" ss -Htn state syn-sent "( dport = :$STUCK )" | wc -l) SYN-SENT to $STUCK," \
    "$("${IN_NS[@]}" ss -Htn state close-wait "( sport = :$LEAKY )" | wc -l) CLOSE_WAIT on $LEAKY;" \
    "accept queue: $("${IN_NS[@]}" ss -Hltn "( sport = :$STUCK )" | awk '{print $2 "/" $3}')"
  for TARGET in troubled troubled-mono troubled-80x24; do
    wait_for 'shown [0-9]'
    wait_for 'CLOSE.WAIT' 30
  done
  TARGET=troubled && shot troubled 160 45
  TARGET=troubled-mono && shot troubled-mono 160 45
  TARGET=troubled-80x24 && shot troubled-80x24 80 24
fi

# ---- a load test, sorted by throughput ------------------------------------------------------
# Paced streams from five client processes (4 MB/s down to 50 kB/s) into one backend, and 300
# idle pooled connections. Rates need two ss reads: the dashboard watches for a few seconds first.
if want load-test; then
  # The scene has the namespace to itself: the population and the troubled server stop first.
  stop_tmux
  for pid in "$LOAD_PID" "$SCENE_PID"; do
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  LOAD_PID= SCENE_PID=
  "${IN_NS[@]}" node screenshots/load-test-scene.cjs >"$WORK/load-test.json" 2>"$WORK/load-test.err" &
  LOAD_TEST_PID=$!
  for _ in $(seq 1 300); do
    [[ -s $WORK/load-test.json ]] && break
    kill -0 "$LOAD_TEST_PID" 2>/dev/null || { echo "capture.sh: the load-test scene stopped:" >&2; cat "$WORK/load-test.err" >&2; exit 1; }
    sleep 0.1
  done
  [[ -s $WORK/load-test.json ]] || { echo "capture.sh: the load-test scene did not get ready" >&2; exit 1; }
  BACKEND=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).ports.backend)' "$WORK/load-test.json")
  echo "load-test scene ready: paced streams into port $BACKEND"

  start 120 36 load-test
  wait_for 'shown [0-9]'
  wait_for 'Out/s' 30 # the rate columns appear with the first rates
  # > steps the sort through the columns, one a press: on to Out/s (descending: busiest first).
  for _ in $(seq 1 20); do
    t capture-pane -p -t "$TARGET" | grep -q 'sort: Out/s' && break
    keys '>'
  done
  wait_for 'sort: Out/s ▼'
  sleep 6 # the trend of the history chart, and rates over several reads
  echo "ss: $("${IN_NS[@]}" ss -Htn state established "( dport = :$BACKEND )" | wc -l) streams to $BACKEND"
  shot load-test 120 36

  # By process, sorted by Out/s too: one row per client process with its rate.
  keys 4
  wait_for 'By process'
  for _ in $(seq 1 20); do
    t capture-pane -p -t "$TARGET" | grep -q 'sort: Out/s' && break
    keys '>'
  done
  wait_for 'sort: Out/s ▼'
  sleep 2
  shot load-test-by-process 120 36

  # Details of the busiest stream (the first row by Out/s): its bytes/s with their trend.
  keys 1 g Enter
  wait_for 'Details'
  wait_for 'out trend' 15
  sleep 1.5
  shot load-test-details 120 36
fi

t kill-server 2>/dev/null || true
echo done
