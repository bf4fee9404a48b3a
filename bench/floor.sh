#!/usr/bin/env bash
# bench/floor.sh — what each layer under Portico's HTTP/1.1 request path costs: CPU per request
# of nginx, of bare reverse proxies on Netty and on Vert.x (bench/floor/*.java, a few dozen
# lines each, not Portico), and of Portico, all doing one job: wrk -c64 keep-alive GETs of a
# 100-byte answer from one nginx backend. One command:
#
#   bench/floor.sh                     # 3 interleaved reps of 10 s after 15 s of warm-up each
#   BODY=16k bench/floor.sh            # the same with 16 KiB answers
#   PROTO=h2 bench/floor.sh            # clients on HTTP/2 over TLS (h2load -c8 -m8), the same
#                                      # HTTP/1.1 backend behind
#   REPS=1 DURATION=5 WARMUP=5 bench/floor.sh
#
# Each proxy runs alone on CPU 1 (taskset), wrk and the backend on CPU 0; the CPU per request is
# the proxy's user + system time over the measured run (from /proc, children included) divided
# by the requests wrk completed, so it stays comparable when CPU 0 is the limit. Targets:
#   nginx        nginx 1 worker, proxy_pass with upstream keepalive (the yardstick)
#   netty        bench/floor/BareNettyProxy.java: Netty's HTTP codecs, a LIFO backend pool
#   vertx+netty  bench/floor/VertxServerNettyClientProxy.java: Vert.x HttpServer, Netty client
#   vertx        bench/floor/BareVertxProxy.java: Vert.x HttpServer and HttpClient
#   portico      target/portico.jar with one HTTPRoute, the README's JVM flags
#   netty-h2     bench/floor/BareNettyH2Proxy.java (PROTO=h2 only): Netty's HTTP/2 codec over
#                OpenSSL in front of the same bare HTTP/1.1 client as netty
# With PROTO=h2, nginx, vertx+netty and portico listen with TLS (a self-signed RSA 2048
# certificate made by openssl, ALPN h2) and netty / vertx are not run.
# TARGETS="nginx portico" picks some (in that order).
# Needs nginx, wrk, taskset (apt-get install -y nginx-light wrk util-linux; done here when
# missing and possible, else it exits 0 saying why) and target/portico.jar (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-15}
BODY=${BODY:-100}   # 100 (bytes) or 16k
PROTO=${PROTO:-h1}  # h1 (wrk -c64, cleartext) or h2 (h2load -c8 -m8 over TLS)
case "$PROTO" in
  h1) TOOLS="nginx wrk taskset" ;;
  h2) TOOLS="nginx h2load openssl taskset" ;;
  *) echo "floor: PROTO is h1 or h2"; exit 2 ;;
esac
case "$BODY" in
  100) URL_PATH=/api/x ;;
  16k) URL_PATH=/static/16k.bin ;;
  *) echo "floor: BODY is 100 or 16k"; exit 2 ;;
esac
BASE=${PORT_BASE:-27300}
JAVA_FLAGS="-XX:+UseSerialGC -Xms32m -Xmx256m -XX:MinHeapFreeRatio=30 -XX:MaxHeapFreeRatio=40 -XX:ReservedCodeCacheSize=48m -Xss512k"
NETTY_FLAGS="-Dio.netty.buffer.checkAccessible=false -Dio.netty.buffer.checkBounds=false -Dio.netty.leakDetection.level=disabled"

for tool in $TOOLS; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk nghttp2-client openssl \
        util-linux >/dev/null || { echo "floor: could not install $tool; skipped"; exit 0; }
    else
      echo "floor: $tool is missing (apt-get install nginx-light wrk nghttp2-client openssl util-linux); skipped"; exit 0
    fi
  fi
done
[ -f target/portico.jar ] || mvn -q -DskipTests package

WORK=$(mktemp -d /tmp/portico-floor.XXXXXX)
trap 'nginx -c "$WORK/backend.conf" -s stop 2>/dev/null || true; rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/portico"
head -c 100 /dev/zero | tr '\0' 'x' > "$WORK/www/api.json"
head -c 16384 /dev/urandom > "$WORK/www/16k.bin"
NGINX_TLS="" PORTICO_TLS="" PORTICO_SECRET=""
if [ "$PROTO" = h2 ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
    -subj /CN=api.bench.local -addext subjectAltName=DNS:api.bench.local 2>/dev/null
  NGINX_TLS="listen 127.0.0.1:$((BASE + 11)) ssl http2 backlog=4096;
    ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;"
  PORTICO_TLS="  - {name: https, protocol: HTTPS, port: $((BASE + 51)), tls: {certificateRefs: [{name: floor-cert}]}}"
  PORTICO_SECRET="---
apiVersion: v1
kind: Secret
metadata: {name: floor-cert, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: $(base64 -w0 "$WORK/cert.pem"), tls.key: $(base64 -w0 "$WORK/key.pem")}"
fi
cat > "$WORK/backend.conf" <<EOF
worker_processes 1;
pid $WORK/backend.pid;
error_log $WORK/backend-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$((BASE + 1)) backlog=4096;
    location /api/ { default_type application/json; alias $WORK/www/; try_files api.json =404; }
    location /static/ { alias $WORK/www/; }
  }
}
EOF
cat > "$WORK/nginx-proxy.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/proxy.pid;
error_log $WORK/proxy-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream api { server 127.0.0.1:$((BASE + 1)); keepalive 128; }
  server {
    listen 127.0.0.1:$((BASE + 10)) backlog=4096;
    $NGINX_TLS
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$remote_addr; }
  }
}
EOF
cat > "$WORK/portico/bench.yaml" <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: floor}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: floor, namespace: default}
spec:
  gatewayClassName: floor
  listeners:
  - {name: http, protocol: HTTP, port: $((BASE + 50))}
$PORTICO_TLS
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec: {ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: api-0, namespace: default, labels: {kubernetes.io/service-name: api}}
addressType: IPv4
ports: [{name: http, port: $((BASE + 1))}]
endpoints:
- addresses: ['127.0.0.1']
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  parentRefs: [{name: floor}]
  hostnames: ['api.bench.local']
  rules:
  - backendRefs: [{name: api, port: 80}]
$PORTICO_SECRET
EOF
mkdir -p "$WORK/portico-before"
sed "s/port: $((BASE + 50))}/port: $((BASE + 60))}/; s/port: $((BASE + 51)),/port: $((BASE + 61)),/" "$WORK/portico/bench.yaml" \
  > "$WORK/portico-before/bench.yaml"
taskset -c 0 nginx -c "$WORK/backend.conf"

declare -A COMMAND PORT TLS_PORT
TLS_ARGS=""
[ "$PROTO" = h2 ] && TLS_ARGS="$WORK/cert.pem $WORK/key.pem"
COMMAND[nginx]="nginx -c $WORK/nginx-proxy.conf"; PORT[nginx]=$((BASE + 10))
COMMAND[netty]="java $JAVA_FLAGS $NETTY_FLAGS -cp target/portico.jar bench/floor/BareNettyProxy.java $((BASE + 20)) $((BASE + 1))"; PORT[netty]=$((BASE + 20))
COMMAND[vertx+netty]="java $JAVA_FLAGS $NETTY_FLAGS -cp target/portico.jar bench/floor/VertxServerNettyClientProxy.java $((BASE + 30)) $((BASE + 1)) $TLS_ARGS"; PORT[vertx+netty]=$((BASE + 30))
COMMAND[vertx]="java $JAVA_FLAGS $NETTY_FLAGS -cp target/portico.jar bench/floor/BareVertxProxy.java $((BASE + 40)) $((BASE + 1))"; PORT[vertx]=$((BASE + 40))
COMMAND[netty-h2]="java $JAVA_FLAGS $NETTY_FLAGS -cp target/portico.jar bench/floor/BareNettyH2Proxy.java $((BASE + 21)) $((BASE + 1)) $TLS_ARGS"; PORT[netty-h2]=$((BASE + 21))
COMMAND[portico]="java $JAVA_FLAGS -XX:TrimNativeHeapInterval=2000 -jar target/portico.jar run --config $WORK/portico --bind 127.0.0.1 --admin off"; PORT[portico]=$((BASE + 50))
# BEFORE_JAR=path: also "portico-before", that jar with the same flags (a change measured
# against its parent in one run: TARGETS="nginx portico-before portico").
if [ -n "${BEFORE_JAR:-}" ]; then
  COMMAND[portico-before]="java $JAVA_FLAGS -XX:TrimNativeHeapInterval=2000 -jar $BEFORE_JAR run --config $WORK/portico-before --bind 127.0.0.1 --admin off"; PORT[portico-before]=$((BASE + 60))
fi
# With PROTO=h2 clients reach each proxy's TLS port.
TLS_PORT[nginx]=$((BASE + 11)); TLS_PORT[netty-h2]=$((BASE + 21)); TLS_PORT[vertx+netty]=$((BASE + 30))
TLS_PORT[portico]=$((BASE + 51)); TLS_PORT[portico-before]=$((BASE + 61))
if [ "$PROTO" = h2 ]; then
  read -r -a TARGETS <<< "${TARGETS:-nginx netty-h2 vertx+netty portico}"
else
  read -r -a TARGETS <<< "${TARGETS:-nginx netty vertx+netty vertx portico}"
fi

# Prints the user + system clock ticks of a process and its children.
ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# The load of one run: wrk -c64 (h1) or h2load -c8 -m8 over TLS (h2), for $2 seconds.
load() {
  if [ "$PROTO" = h2 ]; then
    taskset -c 0 h2load -t1 -c8 -m8 -D "$2" -H ':authority: api.bench.local' "$1"
  else
    taskset -c 0 wrk -t1 -c64 -d"$2s" -H 'Host: api.bench.local' "$1"
  fi
}

measure() {
  local name=$1 url="http://127.0.0.1:${PORT[$1]}$URL_PATH"
  [ "$PROTO" = h2 ] && url="https://127.0.0.1:${TLS_PORT[$1]}$URL_PATH"
  taskset -c 1 ${COMMAND[$name]} > "$WORK/$name.log" 2>&1 &
  local pid=$! i
  for i in $(seq 150); do
    curl -sk -o /dev/null -H 'Host: api.bench.local' "$url" && break
    sleep 0.2
  done
  load "$url" "$WARMUP" > /dev/null
  local before after out
  before=$(ticks "$pid")
  out=$(load "$url" "$DURATION")
  after=$(ticks "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  sleep 1
  local requests rps errors
  if [ "$PROTO" = h2 ]; then
    requests=$(echo "$out" | awk '/^requests:/{print $8}')
    rps=$(echo "$out" | awk '/^finished in/{print $4}')
    errors=$(echo "$out" | awk '/^requests:/ && ($10 > 0 || $12 > 0) {printf "%s ", $0}')
  else
    requests=$(echo "$out" | awk '/requests in/{print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/{printf "%s ", $0}')
  fi
  local micros
  micros=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.2f", t * 1000000 / hz / n}')
  echo "$name $rps $micros" >> "$WORK/results"
  printf '  %-12s %9.0f req/s  %6s µs CPU per request %s\n' "$name" "$rps" "$micros" "$errors"
}

: > "$WORK/results"
for rep in $(seq "$REPS"); do
  echo "rep $rep of $REPS"
  for target in "${TARGETS[@]}"; do
    measure "$target"
  done
done
echo
echo "$PROTO, $BODY-byte answers ($URL_PATH); medians over $REPS rep(s) (CPU per request: user + system of the proxy, its children included):"
python3 - "$WORK/results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, micros = line.split()
    rows.setdefault(name, []).append((float(rps), float(micros)))
nginx = statistics.median(c for _, c in rows["nginx"]) if "nginx" in rows else None
print("| proxy | req/s | µs CPU per request | vs nginx (CPU per request) |")
print("|---|--:|--:|--:|")
for name, samples in rows.items():
    cpu = statistics.median(c for _, c in samples)
    ratio = f"{nginx / cpu:.2f}x" if nginx else "-"
    print(f"| {name} | {statistics.median(r for r, _ in samples):,.0f} | {cpu:.2f} | {ratio} |")
EOF
