#!/bin/bash
# CPU per live dashboard refresh, all threads and children (ss), on a population that lives in a
# network namespace (bench/README.md, "CPU per live refresh at 100k").
#
#   bench/live-refresh-cpu.sh LABEL REPO_DIR [settle_s] [measure_s]
#   env: NETNS (default s100k), EXTRA_ENV (e.g. PATH=DIR-without-ss), NODE_ARGS (e.g. --cpu-prof; node then
#        runs bin/sockscope with only these flags, not the program's own launch)
#
# Runs REPO_DIR/bin/sockscope -i 1 (a built checkout) at 200x50 in a tmux server of its own inside
# the namespace, with SOCKSCOPE_STATS_FILE; after settle_s, over measure_s: utime + stime and
# cutime + cstime (finished children: ss) of the node process from /proc/PID/stat, per thread from
# /proc/PID/task/*/stat, the refreshes counted by the stats file, and its per-stage medians; VmRSS once a
# second over the window (min, median, max). Then q.
# Run two checkouts alternately in one sitting; say the load average beside every figure.
label=$1; repo=$2; settle=${3:-12}; meas=${4:-30}
ipbin=$(command -v ip); ns=${NETNS:-s100k}; out=${TMPDIR:-/tmp}/sockscope-live-refresh; mkdir -p "$out"
sock=sockscope-live-refresh-$$
# As installed (bin/sockscope run as a program: its sh line sets the V8 and malloc settings), unless
# NODE_ARGS asks for node flags (then node runs it, with only those).
if [ -n "$NODE_ARGS" ]; then launch="node $NODE_ARGS bin/sockscope"; else launch=bin/sockscope; fi
stats=$out/stats-$label.json
rm -f $stats
tmux -L $sock -f /dev/null new-session -d -x 200 -y 50 "cd $repo && env TERM=xterm-256color LANG=C.UTF-8 SOCKSCOPE_STATS_FILE=$stats $EXTRA_ENV $ipbin netns exec $ns $launch -i 1; sleep 5"
sleep 1
# find node pid: descendant of the pane's shell with comm node
pane=$(tmux -L $sock display -p '#{pane_pid}')
for i in $(seq 1 20); do
  npid=$(ps -o pid=,comm= --ppid $pane | awk '$2=="node"{print $1}')
  [ -z "$npid" ] && for c in $(ps -o pid= --ppid $pane); do npid=$(ps -o pid=,comm= --ppid $c | awk '$2=="node"{print $1}'); [ -n "$npid" ] && break; done
  [ -n "$npid" ] && break; sleep 0.5
done
npid=$(echo $npid | tr -d ' ')
echo "node pid $npid"
sleep $settle
tk=$(getconf CLK_TCK)
snap() { awk '{print $14, $15, $16, $17}' /proc/$npid/stat; }
threads() { for t in /proc/$npid/task/*; do tid=${t##*/}; echo "$tid-$(cat $t/comm|tr ' ' _) $(awk '{print $14+$15}' $t/stat)"; done | sort; }
read u0 s0 cu0 cs0 < <(snap); threads > $out/th0-$label
n0=$(node -e "try{console.log(JSON.parse(require('fs').readFileSync('$stats','utf8')).snapshots)}catch{console.log(0)}")
l0=$(cut -d' ' -f1 /proc/loadavg)
t0=$(date +%s.%N)
# Resident memory once a second over the window (the stats file has only its value at the end).
: > $out/rss-$label
for i in $(seq 1 $meas); do awk '/^VmRSS/{print $2}' /proc/$npid/status >> $out/rss-$label 2>/dev/null; sleep 1; done
read u1 s1 cu1 cs1 < <(snap); threads > $out/th1-$label
t1=$(date +%s.%N)
l1=$(cut -d' ' -f1 /proc/loadavg)
tmux -L $sock send-keys q
sleep 2
n1=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$stats','utf8')).snapshots)")
tmux -L $sock kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"
node -e "
const s=JSON.parse(require('fs').readFileSync('$stats','utf8'));
const med=a=>{a=[...a].sort((x,y)=>x-y);return a.length?a[a.length>>1]:NaN};
const tk=$tk, n=$n1-$n0, wall=$t1-$t0;
const self=(($u1-$u0)+($s1-$s0))/tk, kids=(($cu1-$cu0)+($cs1-$cs0))/tk;
const st=s.stageMs; const last=k=>st[k].slice(-n);
console.log('$label: load $l0->$l1 refreshes',n,'in',wall.toFixed(1),'s; interval',(wall*1000/n).toFixed(0),'ms; eff',s.effectiveIntervalMs);
console.log('  cpu % of a core (self+children):',((self+kids)*100/wall).toFixed(0));console.log('  cpu/refresh: self',(self*1000/n).toFixed(0),'ms, children',(kids*1000/n).toFixed(0),'ms, total',((self+kids)*1000/n).toFixed(0),'ms');
console.log('  stage medians ms: read',med(last('readMs')).toFixed(0),'parse',med(last('parseMs')).toFixed(0),'owners',med(last('ownersMs')).toFixed(0),'ingest',med(last('ingestMs')).toFixed(0),'draw',med(last('drawMs')).toFixed(0),'cpu(collect->frame)',med(last('cpuMs')).toFixed(0));
if(st.cycleCpuMs) console.log('  cycle cpu (budget input) median',med(last('cycleCpuMs')).toFixed(0));console.log('  rss MB',(s.rssBytes/1e6).toFixed(0));
const rss=require('fs').readFileSync('$out/rss-$label','utf8').split('\\n').filter(Boolean).map(k=>k*1024/1e6).sort((a,b)=>a-b);
if(rss.length) console.log('  rss over the window MB: min',rss[0].toFixed(0),'median',med(rss).toFixed(0),'max',rss[rss.length-1].toFixed(0));
"
join $out/th0-$label $out/th1-$label | awk -v tk=$tk -v n=$((n1-n0)) -v p=$npid '{d=($3-$2)/tk; if(d>0.05) printf "  thread %s%s: %.2f s (%.0f ms/refresh)\n", $1, (index($1,p"-")==1?" (main)":""), d, d*1000/n}'
