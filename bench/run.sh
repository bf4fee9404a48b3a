#!/usr/bin/env bash
# bench/run.sh — Portico vs nginx doing the same routing job on loopback, side by side.
#
# Usage:
#   bench/run.sh                        # 3 interleaved reps of 10 s each, after a 10 s JIT warm-up
#   REPS=5 DURATION=20 bench/run.sh     # more / longer repetitions
#   ONLY=nginx bench/run.sh             # only the nginx side (ONLY=portico: only Portico)
#
# Environment (all optional):
#   REPS=3            interleaved repetitions (portico, nginx, portico, nginx, ...)
#   DURATION=10       seconds per measured wrk run ("10" or "10s")
#   WARMUP=10         seconds of load on Portico before measuring (JIT warm-up); nginx gets 2 s
#   CONNECTIONS=50    wrk connections (-c), one wrk thread (-t1)
#   ONLY=both         both | portico | nginx
#   JAVA_OPTS="-Xms256m -Xmx256m"   JVM flags for Portico
#   PORTICO_ARGS=""   extra flags for `portico run`, e.g. --no-metrics
#   PROXY_CPU=0 LOAD_CPU=1          CPU for the proxy under test / for wrk + backend nginx
#   KEEP_TMP=1        keep the temp dir (configs, logs) instead of deleting it
#   EXTRA_CONFIG=""   YAML files added to Portico's config (e.g. a BackendTrafficPolicy on
#                     HTTPRoute "bench": bench/policies/resilience.yaml), to measure its cost
#
# What it does:
#   * installs nginx and wrk (apt-get, Debian) if missing; exits 0 with a reason if it cannot;
#   * builds target/portico.jar (mvn -q -DskipTests package) if it is missing;
#   * backend: one nginx (worker_processes 1, pinned to LOAD_CPU) answering 200 '{"ok":true}'
#     on 127.0.0.1:18081 and 127.0.0.1:18082;
#   * proxy A: Portico (--event-loops 1, pinned to PROXY_CPU) on 127.0.0.1:18080, serving a
#     generated config dir (Gateway + HTTPRoute for bench.local PathPrefix /api with decoy rules
#     and hosts -> Service whose EndpointSlices list both backends, round robin);
#   * proxy B: nginx (worker_processes 1, pinned to PROXY_CPU) on 127.0.0.1:18090, same job:
#     server_name bench.local, /api -> upstream of both backends, keepalive 64, HTTP/1.1,
#     Host preserved, X-Forwarded-For added;
#   * load: taskset -c LOAD_CPU wrk -t1 -c50 -dDURATION --latency -H 'Host: bench.local' .../api/x
#   * prints a table per run, the medians, the ratios portico/nginx, and writes them to
#     bench/results/latest.txt. Every process it started is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS_DIR="$ROOT/bench/results"
JAR="$ROOT/target/portico.jar"

REPS="${REPS:-3}"
DURATION="${DURATION:-10}"
DURATION="${DURATION%s}"
WARMUP="${WARMUP:-10}"
WARMUP="${WARMUP%s}"
CONNECTIONS="${CONNECTIONS:-50}"
ONLY="${ONLY:-both}"
JAVA_OPTS="${JAVA_OPTS:--Xms256m -Xmx256m}"
PORTICO_ARGS="${PORTICO_ARGS:-}"
EXTRA_CONFIG="${EXTRA_CONFIG:-}"
PROXY_CPU="${PROXY_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
KEEP_TMP="${KEEP_TMP:-0}"

BACKEND_PORT_1=18081
BACKEND_PORT_2=18082
PORTICO_PORT=18080
PORTICO_ADMIN_PORT=19901
NGINX_PORT=18090
HOST_HEADER="bench.local"
REQ_PATH="/api/x"

case "$ONLY" in both | portico | nginx) ;; *) echo "ONLY must be both, portico or nginx (got '$ONLY')" >&2; exit 2 ;; esac
for v in REPS DURATION WARMUP CONNECTIONS PROXY_CPU LOAD_CPU; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
((REPS >= 1)) || { echo "REPS must be >= 1" >&2; exit 2; }
((DURATION >= 1)) || { echo "DURATION must be >= 1" >&2; exit 2; }

log() { printf '[bench] %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Cleanup: every process this script starts is recorded in PIDS and stopped on exit.
# ---------------------------------------------------------------------------------------------
PIDS=()
TMP=""
SUDO=""
POLICY_RC_CREATED=0
cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if ((POLICY_RC_CREATED)); then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ "$KEEP_TMP" == 1 || $rc -ne 0 ]]; then
      log "temp dir kept: $TMP"
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools: nginx, wrk, curl, taskset (Debian packages).
# ---------------------------------------------------------------------------------------------
find_nginx() {
  if command -v nginx >/dev/null 2>&1; then command -v nginx
  elif [[ -x /usr/sbin/nginx ]]; then echo /usr/sbin/nginx
  else return 1; fi
}

missing=()
find_nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
    else echo "bench: skipped: missing ${missing[*]} and not root (no passwordless sudo) to install them"; exit 0; fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench: skipped: missing ${missing[*]} and apt-get is not available to install them"; exit 0
  fi
  # Keep the package's postinst from starting a system nginx on port 80 (only if no policy exists).
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
NGINX="$(find_nginx)" || { echo "bench: skipped: nginx not found after install"; exit 0; }
log "nginx: $NGINX ($("$NGINX" -v 2>&1 | sed 's/^nginx version: //')), wrk: $(command -v wrk)"

NCPU="$(nproc)"
if ((NCPU < 2)); then
  log "WARNING: only $NCPU CPU: proxy, backend and wrk all share CPU 0; numbers are not meaningful"
  PROXY_CPU=0
  LOAD_CPU=0
elif ((PROXY_CPU >= NCPU || LOAD_CPU >= NCPU)); then
  echo "PROXY_CPU/LOAD_CPU must be < nproc ($NCPU)" >&2; exit 2
fi

for port in $BACKEND_PORT_1 $BACKEND_PORT_2 $PORTICO_PORT $PORTICO_ADMIN_PORT $NGINX_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bench: port 127.0.0.1:$port is already in use; stop whatever listens there first" >&2
    exit 1
  fi
done

# ---------------------------------------------------------------------------------------------
# Portico jar.
# ---------------------------------------------------------------------------------------------
if [[ "$ONLY" != nginx && ! -f "$JAR" ]]; then
  command -v mvn >/dev/null 2>&1 || { echo "bench: skipped: $JAR missing and mvn not installed"; exit 0; }
  log "building $JAR (mvn -q -DskipTests package)"
  (cd "$ROOT" && mvn -q -DskipTests package)
  [[ -f "$JAR" ]] || { echo "bench: build did not produce $JAR" >&2; exit 1; }
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")"
chmod 755 "$TMP" # nginx workers run as an unprivileged user when started as root

# ---------------------------------------------------------------------------------------------
# nginx configs.
# ---------------------------------------------------------------------------------------------
nginx_common() { # $1 = prefix dir
  cat <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; multi_accept on; }
EOF
}
nginx_http_common() { # $1 = prefix dir
  cat <<EOF
  access_log off;
  server_tokens off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path $1/client_body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  types { application/json json; }
  default_type application/octet-stream;
EOF
}

mkdir -p "$TMP/backend" "$TMP/nginx-proxy" "$TMP/portico/config"
{
  nginx_common "$TMP/backend"
  echo "http {"
  nginx_http_common "$TMP/backend"
  cat <<EOF
  server {
    listen 127.0.0.1:$BACKEND_PORT_1;
    listen 127.0.0.1:$BACKEND_PORT_2;
    default_type application/json;
    location / { return 200 '{"ok":true}'; }
  }
}
EOF
} >"$TMP/backend/nginx.conf"

{
  nginx_common "$TMP/nginx-proxy"
  echo "http {"
  nginx_http_common "$TMP/nginx-proxy"
  cat <<EOF
  upstream bench_backends {
    server 127.0.0.1:$BACKEND_PORT_1;
    server 127.0.0.1:$BACKEND_PORT_2;
    keepalive 64;
    keepalive_requests 1000000;
  }
  upstream decoy_backends {
    server 127.0.0.1:$BACKEND_PORT_2;
    keepalive 8;
  }
  # No matching host: 404 (as a Gateway answers for an unknown host).
  server {
    listen 127.0.0.1:$NGINX_PORT default_server;
    server_name _;
    location / { return 404; }
  }
  # Decoy hosts.
  server {
    listen 127.0.0.1:$NGINX_PORT;
    server_name decoy.local www.decoy.local *.example.com;
    location / {
      proxy_pass http://decoy_backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    server_name $HOST_HEADER;
    # Gateway API PathPrefix /api matches /api and /api/..., not /apix.
    location = /api { proxy_pass http://bench_backends; include $TMP/nginx-proxy/proxy.inc; }
    location /api/ { proxy_pass http://bench_backends; include $TMP/nginx-proxy/proxy.inc; }
    # Decoy rules.
    location = /healthz { proxy_pass http://decoy_backends; include $TMP/nginx-proxy/proxy.inc; }
    location /admin/ { proxy_pass http://decoy_backends; include $TMP/nginx-proxy/proxy.inc; }
    location /static/ { proxy_pass http://decoy_backends; include $TMP/nginx-proxy/proxy.inc; }
    location / { return 404; }
  }
}
EOF
} >"$TMP/nginx-proxy/nginx.conf"
cat >"$TMP/nginx-proxy/proxy.inc" <<'EOF'
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
EOF

# ---------------------------------------------------------------------------------------------
# Portico config: GatewayClass, Gateway (HTTP listener 18080: >= 1024, so bound as written),
# HTTPRoutes (the bench rule plus decoys), Services and EndpointSlices.
# ---------------------------------------------------------------------------------------------
cat >"$TMP/portico/config/bench.yaml" <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: portico
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bench
  namespace: default
spec:
  gatewayClassName: portico
  listeners:
    - name: http
      protocol: HTTP
      port: $PORTICO_PORT
      allowedRoutes:
        namespaces:
          from: Same
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bench
  namespace: default
spec:
  parentRefs:
    - name: bench
  hostnames:
    - $HOST_HEADER
  rules:
    - matches:
        - path:
            type: Exact
            value: /healthz
      backendRefs:
        - name: decoy
          port: 80
    - matches:
        - path:
            type: PathPrefix
            value: /admin
          headers:
            - name: x-admin-token
              value: secret
      backendRefs:
        - name: decoy
          port: 80
    - matches:
        - path:
            type: PathPrefix
            value: /static
      backendRefs:
        - name: decoy
          port: 80
    - matches:
        - path:
            type: PathPrefix
            value: /api
      backendRefs:
        - name: bench-backend
          port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: decoy
  namespace: default
spec:
  parentRefs:
    - name: bench
  hostnames:
    - decoy.local
    - www.decoy.local
    - "*.example.com"
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: decoy
          port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: bench-backend
  namespace: default
spec:
  selector:
    app: bench-backend
  ports:
    - name: http
      port: 80
      targetPort: http
---
# The two backends listen on different ports of 127.0.0.1, so each has its own slice
# (an EndpointSlice carries one port list for all of its endpoints).
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: bench-backend-a
  namespace: default
  labels:
    kubernetes.io/service-name: bench-backend
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: $BACKEND_PORT_1
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: bench-backend-b
  namespace: default
  labels:
    kubernetes.io/service-name: bench-backend
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: $BACKEND_PORT_2
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
---
apiVersion: v1
kind: Service
metadata:
  name: decoy
  namespace: default
spec:
  selector:
    app: decoy
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: decoy-a
  namespace: default
  labels:
    kubernetes.io/service-name: decoy
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: $BACKEND_PORT_2
endpoints:
  - addresses: ["127.0.0.1"]
    conditions:
      ready: true
EOF

for extra in $EXTRA_CONFIG; do
  [[ -f "$extra" ]] || { echo "bench: EXTRA_CONFIG file $extra not found" >&2; exit 2; }
  cp "$extra" "$TMP/portico/config/extra-$(basename "$extra")"
done

# ---------------------------------------------------------------------------------------------
# Start / check helpers.
# ---------------------------------------------------------------------------------------------
start_nginx() { # $1 = name (dir under TMP), $2 = cpu
  local dir="$TMP/$1"
  "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
    || { echo "bench: nginx config $dir/nginx.conf is invalid" >&2; exit 1; }
  taskset -c "$2" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  PIDS+=("$!")
}

# wait_http URL [HOST] [TIMEOUT_S] [PID]: wait until URL answers 200
wait_http() {
  local url="$1" host="${2:-}" timeout="${3:-30}" pid="${4:-}" i code
  for ((i = 0; i < timeout * 10; i++)); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${host:+-H "Host: $host"} "$url" || true)
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# check_proxy NAME PORT: the route answers 200 for bench.local/api/x and 404 for an unknown host
check_proxy() {
  local name="$1" port="$2" body code
  body=$(curl -s --max-time 5 -H "Host: $HOST_HEADER" "http://127.0.0.1:$port$REQ_PATH") || true
  [[ "$body" == '{"ok":true}' ]] || { echo "bench: $name: GET $HOST_HEADER$REQ_PATH answered '$body'" >&2; return 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: nope.local" "http://127.0.0.1:$port$REQ_PATH") || true
  [[ "$code" == 404 ]] || { echo "bench: $name: unknown host answered $code (expected 404)" >&2; return 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $HOST_HEADER" "http://127.0.0.1:$port/apix") || true
  [[ "$code" == 404 ]] || log "note: $name: $HOST_HEADER/apix answered $code (PathPrefix /api should not match it)"
  return 0
}

run_wrk() { # $1 = port, $2 = seconds -> wrk output on stdout
  timeout $(($2 + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$2s" --timeout 5s --latency \
    -H "Host: $HOST_HEADER" "http://127.0.0.1:$1$REQ_PATH"
}

# p99 in wrk's "Latency Distribution" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}

# parse_wrk FILE -> "rps p99_ms non2xx socket_errors"
parse_wrk() {
  local f="$1" rps p99 non2xx errs
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
  p99=$(awk '$1 == "99%" { print $2 }' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
  errs=$(awk '/Socket errors:/ { s = 0; for (i = 3; i <= NF; i += 2) { v = $(i + 1); gsub(/,/, "", v); s += v } print s }' "$f")
  [[ -n "$rps" && -n "$p99" ]] || { echo "bench: could not parse wrk output $f:" >&2; cat "$f" >&2; return 1; }
  echo "$rps $(to_ms "$p99") ${non2xx:-0} ${errs:-0}"
}

median() { # numbers as args
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------------------------------------
# Start backends and proxies.
# ---------------------------------------------------------------------------------------------
log "temp dir: $TMP"
log "backend nginx on 127.0.0.1:$BACKEND_PORT_1 and :$BACKEND_PORT_2 (CPU $LOAD_CPU)"
start_nginx backend "$LOAD_CPU"
wait_http "http://127.0.0.1:$BACKEND_PORT_1/" "" 10 || { echo "bench: backend nginx did not start:" >&2; cat "$TMP/backend/error.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$BACKEND_PORT_2/" "" 10 || { echo "bench: backend nginx :$BACKEND_PORT_2 did not answer" >&2; exit 1; }

if [[ "$ONLY" != portico ]]; then
  log "nginx proxy on 127.0.0.1:$NGINX_PORT (CPU $PROXY_CPU)"
  start_nginx nginx-proxy "$PROXY_CPU"
  wait_http "http://127.0.0.1:$NGINX_PORT$REQ_PATH" "$HOST_HEADER" 10 \
    || { echo "bench: nginx proxy did not start:" >&2; cat "$TMP/nginx-proxy/error.log" >&2; exit 1; }
  check_proxy nginx "$NGINX_PORT"
fi

if [[ "$ONLY" != nginx ]]; then
  log "Portico on 127.0.0.1:$PORTICO_PORT, admin 127.0.0.1:$PORTICO_ADMIN_PORT (CPU $PROXY_CPU, --event-loops 1)"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
  taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$JAR" run --config "$TMP/portico/config" \
    --bind 127.0.0.1 --port-offset 0 --admin "127.0.0.1:$PORTICO_ADMIN_PORT" --event-loops 1 \
    $PORTICO_ARGS >"$TMP/portico/portico.log" 2>&1 &
  PORTICO_PID=$!
  PIDS+=("$PORTICO_PID")
  if ! wait_http "http://127.0.0.1:$PORTICO_ADMIN_PORT/readyz" "" 60 "$PORTICO_PID"; then
    if kill -0 "$PORTICO_PID" 2>/dev/null; then
      echo "bench: Portico did not become ready (GET /readyz on 127.0.0.1:$PORTICO_ADMIN_PORT) within 60 s; log:" >&2
    else
      wait "$PORTICO_PID" && prc=0 || prc=$?
      echo "bench: Portico exited (status $prc) before becoming ready; log:" >&2
    fi
    tail -n 40 "$TMP/portico/portico.log" >&2
    exit 1
  fi
  wait_http "http://127.0.0.1:$PORTICO_PORT$REQ_PATH" "$HOST_HEADER" 10 "$PORTICO_PID" || true
  check_proxy portico "$PORTICO_PORT" || { tail -n 40 "$TMP/portico/portico.log" >&2; exit 1; }
  log "warming up Portico for ${WARMUP}s (JIT)"
  if ((WARMUP > 0)); then run_wrk "$PORTICO_PORT" "$WARMUP" >"$TMP/warmup-portico.txt"; fi
fi
if [[ "$ONLY" != portico ]]; then
  run_wrk "$NGINX_PORT" 2 >"$TMP/warmup-nginx.txt"
fi

# ---------------------------------------------------------------------------------------------
# Interleaved runs.
# ---------------------------------------------------------------------------------------------
sides=()
if [[ "$ONLY" != nginx ]]; then sides+=(portico); fi
if [[ "$ONLY" != portico ]]; then sides+=(nginx); fi

mkdir -p "$RESULTS_DIR"
OUT="$TMP/results.txt"
P_RPS=() P_P99=() N_RPS=() N_P99=()
{
  echo "# Portico vs nginx, $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(uname -srm), $NCPU CPUs"
  echo "# proxy on CPU $PROXY_CPU; wrk + backend nginx on CPU $LOAD_CPU; wrk -t1 -c$CONNECTIONS -d${DURATION}s;"
  echo "# GET http://127.0.0.1:PORT$REQ_PATH Host: $HOST_HEADER -> 2 backends (round robin); reps=$REPS"
  echo "# $("$NGINX" -v 2>&1); $(java -version 2>&1 | head -n 1); JAVA_OPTS=$JAVA_OPTS; PORTICO_ARGS=$PORTICO_ARGS"
} | tee "$OUT"
printf '%-4s %-8s %12s %10s %8s %8s\n' run proxy requests/s p99_ms non2xx errors | tee -a "$OUT"
for ((r = 1; r <= REPS; r++)); do
  for side in "${sides[@]}"; do
    if [[ $side == portico ]]; then port=$PORTICO_PORT; else port=$NGINX_PORT; fi
    wrk_out="$TMP/wrk-$side-$r.txt"
    run_wrk "$port" "$DURATION" >"$wrk_out"
    parsed=$(parse_wrk "$wrk_out")
    read -r rps p99 non2xx errs <<<"$parsed"
    printf '%-4s %-8s %12.1f %10.3f %8s %8s\n' "$r" "$side" "$rps" "$p99" "$non2xx" "$errs" | tee -a "$OUT"
    if ((non2xx > 0)); then log "WARNING: $side run $r had $non2xx non-2xx/3xx responses"; fi
    if [[ $side == portico ]]; then P_RPS+=("$rps"); P_P99+=("$p99"); else N_RPS+=("$rps"); N_P99+=("$p99"); fi
  done
done

{
  echo
  printf '%-8s %12s %10s\n' median requests/s p99_ms
  if ((${#P_RPS[@]})); then
    p_rps=$(median "${P_RPS[@]}") p_p99=$(median "${P_P99[@]}")
    printf '%-8s %12.1f %10.3f\n' portico "$p_rps" "$p_p99"
  fi
  if ((${#N_RPS[@]})); then
    n_rps=$(median "${N_RPS[@]}") n_p99=$(median "${N_P99[@]}")
    printf '%-8s %12.1f %10.3f\n' nginx "$n_rps" "$n_p99"
  fi
  if ((${#P_RPS[@]} && ${#N_RPS[@]})); then
    awk -v a="$p_rps" -v b="$n_rps" 'BEGIN { printf "ratio portico/nginx requests/s: %.3f\n", (b > 0 ? a / b : 0) }'
    awk -v a="$p_p99" -v b="$n_p99" 'BEGIN { printf "ratio portico/nginx p99:        %.3f\n", (b > 0 ? a / b : 0) }'
  fi
} | tee -a "$OUT"

cp "$OUT" "$RESULTS_DIR/latest.txt"
log "results written to ${RESULTS_DIR#"$ROOT"/}/latest.txt"
