#!/usr/bin/env bash
# bench/run.sh — Portico vs nginx vs HAProxy doing the same routing job on loopback, side by
# side: HTTP/1.1, TLS, HTTP/2 (TLS and cleartext), new TLS handshakes, HTTP/2 to upstreams, and
# the cost of Portico's policies. One command:
#
#   bench/run.sh                                    # everything: 3 interleaved reps of 10 s
#   SCENARIOS=h1,h1-tls TARGETS=portico,nginx bench/run.sh
#   REPS=1 DURATION=2 WARMUP=2 SCENARIOS=h1 bench/run.sh    # a smoke run (seconds)
#
# Environment (all optional):
#   REPS=3            repetitions, interleaved across targets (portico, nginx, haproxy, portico, ...)
#   DURATION=10       seconds per measured run ("10" or "10s")
#   WARMUP=10         seconds of load on Portico before each scenario's runs (JIT); nginx and
#                     HAProxy get min(2, WARMUP). tls-full warms up with bursts of 300 handshakes.
#   WARMUP_RUNS=1     Portico's warm-up split into this many runs, its connections closed in
#                     between (3: the JIT sees connections close, as in production; see README)
#   TARGETS=portico,nginx,haproxy   which proxies (comma list)
#   ONLY=             the older knob: portico | nginx | haproxy | both (= all); TARGETS wins
#   SCENARIOS=h1,h1-16k,h1-tls,h2-tls,tls-full,h2c,h2-upstream,pt-new,pt-1m,grpc,policies   (comma list)
#       h1           HTTP/1.1 keep-alive, 100 B body         wrk -t1 -cCONNECTIONS
#       h1-16k       HTTP/1.1 keep-alive, 16 KiB body        wrk
#       h1-tls       HTTP/1.1 keep-alive over TLS            wrk
#       h2-tls       HTTP/2 over TLS (ALPN h2)               h2load -cH2_CLIENTS -mH2_STREAMS
#       tls-full     a new TLS handshake per request          h2load --h1 -cN -nN (N clients at
#                    once, one request each, full TLS 1.3 handshakes; N = slowest target's
#                    warm-up rate x DURATION, 200..4000, the same N for every target)
#       h2c          HTTP/2 cleartext from clients            h2load -cH2_CLIENTS -mH2_STREAMS
#       h2-upstream  HTTP/1.1 from wrk, HTTP/2 cleartext to the backends (Portico: Service port
#                    appProtocol kubernetes.io/h2c; HAProxy: proto h2). nginx 1.22 cannot proxy
#                    HTTP/2 upstream: its row is the same client job over HTTP/1.1 upstream.
#       policies     the h1 run on plain Portico and on a second Portico with every file of
#                    POLICIES on, interleaved; prints the relative cost (goal: <= 5%)
#   CONNECTIONS=64    wrk connections (one wrk thread)
#   H2_CLIENTS=8 H2_STREAMS=8       h2load clients (-c) and concurrent streams per client (-m)
#   H2LOAD_LATENCY=1  h2load writes a per-request log (--log-file) for p50/p99; 0 = mean only
#   JAVA_OPTS="..."   JVM flags for Portico (default: the shipped settings, README "JVM settings")
#   PORTICO_ARGS=""   extra flags for `portico run`, e.g. --no-metrics
#   PORTICO_JAR=target/portico.jar  built with `mvn -q -DskipTests package` when missing
#   EXTRA_CONFIG=""   YAML files added to every Portico's config (space-separated)
#   POLICIES=bench/policies/*.yaml  YAML files of the "policies" Portico (on HTTPRoute "bench",
#                     the route of api.bench.local)
#   PROXY_CPU=1 LOAD_CPU=0          the proxy under test alone on PROXY_CPU; wrk/h2load, the
#                     backend nginx and the driver on LOAD_CPU
#   KEEP_TMP=1        keep the temp dir (configs, logs, raw wrk/h2load output, results.jsonl)
#   RESULTS_DIR=bench/results       where latest.txt / latest.jsonl are written
#
# What it does:
#   * installs the tools with apt-get when missing (nginx-light or nginx, haproxy, wrk,
#     nghttp2-client for h2load, openssl, util-linux for taskset, python3) and exits 0 with a
#     reason when it cannot; builds target/portico.jar if it is missing;
#   * then runs bench/bench.py (Python 3, standard library only), which:
#     - makes a self-signed RSA 2048 certificate with openssl (SAN *.bench.local, 127.0.0.1);
#     - backend: one nginx (1 worker, LOAD_CPU) answering a 100-byte JSON on /api/ and a 16 KiB
#       file on /static/ over HTTP/1.1 on 127.0.0.1:18081/18082 and over cleartext HTTP/2 on
#       127.0.0.1:18083/18084;
#     - proxies, each alone on PROXY_CPU, all doing the same job (Host api.bench.local /api/ and
#       static.bench.local /static/ -> the HTTP/1.1 pair, h2.bench.local /api/ -> the HTTP/2
#       pair, round robin, upstream keep-alive, X-Forwarded-For/-Proto, no access log, 404 for
#       anything else; TLS 1.2/1.3, ALPN h2,http/1.1, session tickets on):
#       Portico   http/h2c 18100, https 18101, admin 18109 (--event-loops 1)
#       Portico with POLICIES (only for the policies scenario): 18110, 18111, admin 18119
#       nginx     (worker_processes 1) http 18120, https 18121, h2c 18122
#       HAProxy   (nbthread 1) http/h2c 18130, https 18131
#     - checks each proxy (routing, round robin, 404, HTTPS, ALPN h2, h2c, HTTP/2 upstream) and
#       skips the scenarios a proxy fails, with a note;
#     - per scenario: warm-up, then REPS runs interleaved across the targets; during each run it
#       samples the proxy core's CPU (/proc/stat), the proxy's process-group CPU and its peak
#       VmRSS (every 0.5 s), the load core's CPU and CPU used by other processes;
#     - prints a Markdown table (medians, ratios vs nginx, p50/p99, spread across reps) and
#       writes bench/results/latest.txt and bench/results/latest.jsonl (one JSON line per run,
#       with the exact command), plus timestamped copies.
#   Everything listens on 127.0.0.1, ports 18000-18199 only. Every load run is bounded in time.
#   Every process it starts is stopped on exit (also on Ctrl-C / SIGTERM), by process group.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="${PORTICO_JAR:-$ROOT/target/portico.jar}"
TARGETS="${TARGETS:-}"
ONLY="${ONLY:-}"
if [[ -z "$TARGETS" && -n "$ONLY" ]]; then
  case "$ONLY" in both | all) TARGETS=portico,nginx,haproxy ;; *) TARGETS="$ONLY" ;; esac
fi
WANT="${TARGETS:-portico,nginx,haproxy}"

log() { printf '[bench] %s\n' "$*"; }

SUDO=""
POLICY_RC_CREATED=0
cleanup() {
  local rc=$?
  if ((POLICY_RC_CREATED)); then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools (Debian packages).
# ---------------------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]]; }
missing=()     # packages
have nginx || missing+=(nginx)
# The passthrough scenarios' nginx row: stream + ssl_preread (a module package of its own).
if [[ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]]; then missing+=(libnginx-mod-stream); fi
if [[ ",$WANT," == *",haproxy,"* ]] && ! have haproxy; then missing+=(haproxy); fi
have wrk || missing+=(wrk)
have h2load || missing+=(nghttp2-client)
have openssl || missing+=(openssl)
have taskset || missing+=(util-linux)
have python3 || missing+=(python3)

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
    else echo "bench: skipped: missing ${missing[*]} and not root (no passwordless sudo) to install them"; exit 0; fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench: skipped: missing ${missing[*]} and apt-get is not available to install them"; exit 0
  fi
  # Keep the packages' postinst from starting a system nginx / haproxy (only if no policy exists).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod 755 /usr/sbin/policy-rc.d \
      && POLICY_RC_CREATED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "installing: ${missing[*]} (apt-get)"
  if ! $SUDO apt-get update -qq; then
    echo "bench: skipped: apt-get update failed, cannot install ${missing[*]}"; exit 0
  fi
  pkgs=()
  for m in "${missing[@]}"; do if [[ "$m" != nginx ]]; then pkgs+=("$m"); fi; done
  if ((${#pkgs[@]})); then
    log "apt-get install -y ${pkgs[*]}"
    $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null \
      || { echo "bench: skipped: apt-get install ${pkgs[*]} failed"; exit 0; }
  fi
  if [[ " ${missing[*]} " == *" nginx "* ]]; then
    log "apt-get install -y nginx-light (fallback: nginx)"
    $SUDO apt-get install -y -qq nginx-light >/dev/null 2>&1 \
      || $SUDO apt-get install -y -qq nginx >/dev/null \
      || { echo "bench: skipped: apt-get install nginx-light / nginx failed"; exit 0; }
  fi
  if ((POLICY_RC_CREATED)); then $SUDO rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
fi
# nginx and haproxy live in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

# ---------------------------------------------------------------------------------------------
# Portico jar.
# ---------------------------------------------------------------------------------------------
if [[ ",$WANT," == *",portico,"* ]]; then
  command -v java >/dev/null 2>&1 || { echo "bench: skipped: java (17+) is not installed"; exit 0; }
  if [[ ! -f "$JAR" ]]; then
    command -v mvn >/dev/null 2>&1 || { echo "bench: skipped: $JAR missing and mvn not installed"; exit 0; }
    log "building $JAR (mvn -q -DskipTests package)"
    (cd "$ROOT" && mvn -q -DskipTests package)
    [[ -f "$JAR" ]] || { echo "bench: build did not produce $JAR" >&2; exit 1; }
  fi
fi

export TARGETS PORTICO_JAR="$JAR"
trap - EXIT INT TERM
exec python3 "$ROOT/bench/bench.py"
