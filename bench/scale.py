#!/usr/bin/env python3
"""bench/scale.py: Portico's control plane at scale, standalone (issue 11).

Generates N HTTPRoutes (each its own hostname) over 50 Services whose EndpointSlices point at
one local nginx (four server blocks, 127.0.0.1:PORT_BASE+1..+4, each answering its own port),
runs `portico run --config DIR` on that directory, and prints one row of the issue's table:

  start -> all served            from launching the JVM until every route answers (the table is
                                 swapped atomically, so a probe set of routes answering means
                                 all do; every route is then checked once, outside the clock)
  RSS after start                VmRSS of the JVM once all routes are served
  RSS after 200 route changes    VmRSS once the 200th changed route is served (one reading;
                                 below the tables also min / median / max of readings every
                                 0.5 s from then to the end of the run)
  new route served               a new route file renamed into place (Kubernetes: created with
                                 one POST) -> its host answers 200; in Kubernetes mode also how
                                 long the API server took to answer the create, and the rest
  EndpointSlice change served    a slice moved to another nginx port -> its routes answer from it
  errors during churn            non-200 answers / failed requests of a steady keep-alive
                                 client on unchanged routes, for the whole churn

Below the table, each latency's share that was Portico's own: the change of its
portico_config_propagation_seconds (admin API /metrics) over the sample, from the moment its
provider saw the change to the proxies being given it. In Kubernetes mode each latency sample
starts once Portico's status writes are done (portico_status_writer_busy is 0; --overlap-status
to start at once): the mock API server scans every object it holds on every request, so at 10k
routes a status write still in flight there delays the next sample's request and watch event
by milliseconds a real API server does not add.

A second table covers changes under a steady load (three client threads, keep-alive):

  endpoint roll                  the pods of Service `roll` (local processes on 127.0.0.11...)
                                 replaced one by one as a rolling update does it: the new pod
                                 listed ready, the old one listed terminating (ready false,
                                 serving false) and kept alive --grace seconds, then stopped and
                                 removed; once for a route without and once with a retry policy
  Secret rotation                the HTTPS listener's certificate Secret replaced --rotations
                                 times (a new key each time), clients on keep-alive and new
                                 connections; how soon new connections get the new certificate

Portico runs with MALLOC_ARENA_MAX=2, as the Dockerfile ships it, unless the environment
says otherwise. Every file is written aside and renamed into place (what editors and ConfigMap
volumes do).
Runs are bounded: each wait gives up after --timeout seconds and is reported as such.

With --provider kubernetes the same objects live in fabric8's CRUD mock API server (run as a
process of its own from the test classpath, see src/test/java/io/portico/testing/MockApiServer)
and Portico runs `run --kubernetes` against it: objects are created, replaced and changed
through the API (one request each) instead of files; status is written back to the mock.

  nice -n 19 python3 bench/scale.py --routes 1000
  nice -n 19 python3 bench/scale.py --routes 5000 --samples 20 --java-opts "-Xmx256m"
  nice -n 19 python3 bench/scale.py --routes 1000 --provider kubernetes
  nice -n 19 python3 bench/scale.py --routes 1000,5000,10000,20000   # every size, one table

Ports: PORT_BASE (default 19000) + 1..4 nginx, +10 the roll pods, +80 the Gateway listener,
+81 the HTTPS listener, +99 the admin API, +98 the mock API server.
Needs nginx (apt-get install nginx-light), openssl and target/portico.jar (mvn -q -DskipTests package);
--provider kubernetes also the test classes (mvn -q test-compile; the bench runs it if needed).
"""
import argparse
import base64
import hashlib
import json
import http.client
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SERVICES = 50
NAMESPACE = "bench"


def write_atomically(path, text):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def route(i, service, extra_header=None):
    """HTTPRoute route-{i}: host r{i}.bench.local -> svc-{service}; extra_header, if given, is
    set on its responses (x-bench-generation), which tells a changed route from the old."""
    rule = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}
    if extra_header is not None:
        rule["filters"] = [{"type": "ResponseHeaderModifier", "responseHeaderModifier": {
            "set": [{"name": "x-bench-generation", "value": extra_header}]}}]
    rule["backendRefs"] = [{"name": f"svc-{service}", "port": 80}]
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": f"route-{i}", "namespace": NAMESPACE},
            "spec": {"parentRefs": [{"name": "bench"}], "hostnames": [f"r{i}.bench.local"],
                     "rules": [rule]}}


def endpoint_slice(s, port):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"svc-{s}-1", "namespace": NAMESPACE,
                         "labels": {"kubernetes.io/service-name": f"svc-{s}"}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": port}],
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}]}


def service(s):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"svc-{s}", "namespace": NAMESPACE},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def gateway(listener_port):
    """The GatewayClass, the namespace and the Gateway with its one HTTP listener."""
    return [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
             "metadata": {"name": "portico"},
             "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "bench", "namespace": NAMESPACE},
             "spec": {"gatewayClassName": "portico", "listeners": [
                 {"name": "http", "protocol": "HTTP", "port": listener_port}]}}]


ROLL_SERVICE = "roll"
TLS_HOST = "tls.bench.local"


def roll_objects(listener_port):
    """The endpoint-roll fixture: Service `roll` (its pods are local processes, see Pod) and two
    routes to it on the main Gateway, roll.bench.local without a retry policy and
    roll-retry.bench.local with an HTTPRoute rule retry (GEP-1731)."""
    objects = [{"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": ROLL_SERVICE, "namespace": NAMESPACE},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}]
    for name, retry in (("roll", None), ("roll-retry", {"attempts": 2, "backoff": "10ms",
                                                        "codes": [502, 503]})):
        rule = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": ROLL_SERVICE, "port": 80}]}
        if retry is not None:
            rule["retry"] = retry
        objects.append({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                        "metadata": {"name": name, "namespace": NAMESPACE},
                        "spec": {"parentRefs": [{"name": "bench"}],
                                 "hostnames": [f"{name}.bench.local"], "rules": [rule]}})
    return objects


def roll_slice(pods, port):
    """The `roll` Service's EndpointSlice: pods is a list of (ip, state), state one of "ready"
    or "terminating" (what the EndpointSlice controller writes for a deleted pod: ready false,
    serving false, terminating true)."""
    conditions = {"ready": {"ready": True, "serving": True, "terminating": False},
                  "terminating": {"ready": False, "serving": False, "terminating": True}}
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{ROLL_SERVICE}-1", "namespace": NAMESPACE,
                         "labels": {"kubernetes.io/service-name": ROLL_SERVICE}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": port}],
            "endpoints": [{"addresses": [ip], "conditions": conditions[state]}
                          for ip, state in pods]}


def tls_objects(https_port):
    """A second Gateway, `bench-tls`, with one HTTPS listener for TLS_HOST whose certificate is
    the Secret `bench-tls` (rotated by the bench), and its route to svc-0. A Gateway of its own,
    so the N routes do not attach to the HTTPS listener too."""
    return [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "bench-tls", "namespace": NAMESPACE},
             "spec": {"gatewayClassName": "portico", "listeners": [
                 {"name": "https", "protocol": "HTTPS", "port": https_port, "hostname": TLS_HOST,
                  "tls": {"mode": "Terminate", "certificateRefs": [{"name": "bench-tls"}]}}]}},
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "tls-route", "namespace": NAMESPACE},
             "spec": {"parentRefs": [{"name": "bench-tls"}], "hostnames": [TLS_HOST],
                      "rules": [{"backendRefs": [{"name": "svc-0", "port": 80}]}]}}]


def tls_secret(cert_pem, key_pem):
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "bench-tls", "namespace": NAMESPACE},
            "data": {"tls.crt": base64.b64encode(cert_pem).decode(),
                     "tls.key": base64.b64encode(key_pem).decode()}}


def new_certificate(work, k):
    """A fresh self-signed key and certificate for TLS_HOST; returns (cert PEM, key PEM)."""
    cert, key = os.path.join(work, f"tls-{k}.crt"), os.path.join(work, f"tls-{k}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={TLS_HOST}",
                    "-addext", f"subjectAltName=DNS:{TLS_HOST}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(cert, "rb") as c, open(key, "rb") as k_:
        return c.read(), k_.read()


def to_yaml(value, indent=""):
    """Block YAML of dicts, lists and scalars (scalars written as JSON, which YAML reads)."""
    if isinstance(value, dict) and value:
        lines = []
        for key, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines += [f"{indent}{key}:", to_yaml(v, indent + "  ")]
            else:
                lines.append(f"{indent}{key}: {json.dumps(v)}")
        return "\n".join(lines)
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            body = to_yaml(item, indent + "  ")
            lines.append(f"{indent}- {body[len(indent) + 2:]}")
        return "\n".join(lines)
    return indent + json.dumps(value)


def yaml_documents(objects):
    return "---\n".join(to_yaml(o) + "\n" for o in objects)


class FileStore:
    """The objects as files of a directory Portico watches; each written aside and renamed."""

    def __init__(self, config):
        self.config = config
        os.makedirs(os.path.join(config, "routes"))
        os.makedirs(os.path.join(config, "slices"))

    def setup(self, listener, n, slice_port, extra):
        write_atomically(os.path.join(self.config, "gateway.yaml"),
                         yaml_documents(gateway(listener)))
        for obj in extra:
            self.put(obj)
        write_atomically(os.path.join(self.config, "services.yaml"),
                         yaml_documents(service(s) for s in range(SERVICES)))
        for s in range(SERVICES):
            self.put_slice(s, slice_port[s])
        for i in range(n):
            self.put_route(i, i % SERVICES)

    def put_route(self, i, service, extra_header=None):
        write_atomically(os.path.join(self.config, "routes", f"route-{i:05d}.yaml"),
                         yaml_documents([route(i, service, extra_header)]))

    def create_route(self, i, service):
        """A new route; returns None (there is no API server whose share to tell apart)."""
        self.put_route(i, service)
        return None

    def put_slice(self, s, port):
        """Returns None (there is no API server whose share to tell apart)."""
        write_atomically(os.path.join(self.config, "slices", f"svc-{s}.yaml"),
                         yaml_documents([endpoint_slice(s, port)]))

    def put(self, obj):
        """Any other object, in a file of its own named after its kind and name."""
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        write_atomically(os.path.join(self.config, name), yaml_documents([obj]))

    def portico_args(self):
        return ["--config", self.config], {}


class ApiStore:
    """The objects in the mock API server: created or replaced with one request each."""

    COLLECTIONS = {
        "GatewayClass": "/apis/gateway.networking.k8s.io/v1/gatewayclasses",
        "Namespace": "/api/v1/namespaces",
        "Gateway": "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/gateways",
        "HTTPRoute": "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes",
        "Service": "/api/v1/namespaces/{ns}/services",
        "EndpointSlice": "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
        "Secret": "/api/v1/namespaces/{ns}/secrets",
    }

    LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

    def __init__(self, port, kubeconfig, kubectl_apply=False):
        self.port = port
        self.kubeconfig = kubeconfig
        self.kubectl_apply = kubectl_apply
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def _request(self, method, path, body):
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=json.dumps(body),
                                  headers={"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, data
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        raise SystemExit(f"mock API server: {method} {path} failed")

    def apply(self, obj):
        if self.kubectl_apply:
            # What `kubectl apply` leaves on the object: all of it, as JSON, in an annotation.
            applied = json.dumps(obj, separators=(",", ":"), sort_keys=True)
            obj = dict(obj, metadata=dict(obj["metadata"], annotations=dict(
                obj["metadata"].get("annotations") or {}, **{self.LAST_APPLIED: applied})))
        ns = obj["metadata"].get("namespace", "")
        collection = self.COLLECTIONS[obj["kind"]].format(ns=ns)
        name = obj["metadata"]["name"]
        status, data = self._request("PUT", f"{collection}/{name}", obj)
        if status == 404:
            status, data = self._request("POST", collection, obj)
        if status >= 300:
            raise SystemExit(f"mock API server refused {obj['kind']} {name}: {status} {data[:200]}")

    def put(self, obj):
        self.apply(obj)

    def setup(self, listener, n, slice_port, extra):
        for obj in gateway(listener) + extra:
            self.apply(obj)
        for s in range(SERVICES):
            self.apply(service(s))
            self.put_slice(s, slice_port[s])
        for i in range(n):
            self.put_route(i, i % SERVICES)

    def put_route(self, i, service, extra_header=None):
        self.apply(route(i, service, extra_header))

    def create_route(self, i, service):
        """A new route, created with one request (as `kubectl create` does it); returns the
        seconds the API server took to answer it, which the new-route time includes."""
        obj = route(i, service)
        t = time.monotonic()
        status, data = self._request("POST", self.COLLECTIONS["HTTPRoute"].format(ns=NAMESPACE), obj)
        answered = time.monotonic() - t
        if status >= 300:
            raise SystemExit(f"mock API server refused HTTPRoute route-{i}: {status} {data[:200]}")
        return answered

    def put_slice(self, s, port):
        """Replaces Service s's slice; returns the seconds the API server took to answer, which
        the EndpointSlice-change time includes."""
        t = time.monotonic()
        self.apply(endpoint_slice(s, port))
        return time.monotonic() - t

    def routes_with_status(self):
        """How many of the N generated HTTPRoutes (route-*) carry a parents entry of Portico's
        controller."""
        self.conn.request("GET", "/apis/gateway.networking.k8s.io/v1/namespaces/bench/httproutes")
        resp = self.conn.getresponse()
        items = json.loads(resp.read()).get("items", [])
        return sum(1 for r in items if r["metadata"]["name"].startswith("route-") and any(
            p.get("controllerName") == "gateway.envoyproxy.io/gatewayclass-controller"
            for p in (r.get("status") or {}).get("parents") or []))

    def portico_args(self):
        return ["--kubernetes"], {"KUBECONFIG": self.kubeconfig, "POD_NAMESPACE": "default",
                                  "POD_NAME": "portico-scale"}


def start_mock_api(work, port):
    """Runs MockApiServer from the test classpath; returns (process, kubeconfig path)."""
    mvn = ["nice", "-n", "19", "mvn", "-q", "-o"]
    if not os.path.exists("target/test-classes/io/portico/testing/MockApiServer.class"):
        subprocess.run(mvn + ["test-compile", "-Dportico.cds.skip=true"], check=True)
    cp_file = os.path.join(work, "test-classpath.txt")
    subprocess.run(mvn + ["dependency:build-classpath", "-Dmdep.includeScope=test",
                          "-Dmdep.outputFile=" + cp_file], check=True, stdout=subprocess.DEVNULL)
    with open(cp_file) as f:
        classpath = "target/test-classes:target/classes:" + f.read().strip()
    kubeconfig = os.path.join(work, "kubeconfig")
    proc = subprocess.Popen(["nice", "-n", "19", "java", "-Xmx1g", "-cp", classpath,
                             "io.portico.testing.MockApiServer", str(port), kubeconfig],
                            stdout=subprocess.PIPE, stderr=open(os.path.join(work, "mock-api.log"), "w"),
                            text=True)
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"mock API server did not start; see {work}/mock-api.log")
    return proc, kubeconfig


class Client:
    """One keep-alive HTTP/1.1 connection to the listener; reconnects after any failure."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, host, path="/"):
        """Returns (status, body, headers) or (None, error, {})."""
        try:
            if self.conn is None:
                self.conn = self.connect()
            self.conn.request("GET", path, headers={"Host": host})
            resp = self.conn.getresponse()
            body = resp.read()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            if resp.getheader("connection", "").lower() == "close":
                self.close()
            return resp.status, body, headers
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return None, repr(e), {}

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


POD_SCRIPT = r"""
import http.server, signal, sys, threading, time
ip, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
late = [0, None]  # requests that arrived after the pod was marked terminating (+ grace)

def marked(signum, frame):
    late[1] = time.monotonic() + float(sys.argv[4])

def stopped(signum, frame):
    sys.stdout.write(f"late {late[0]}\n")
    sys.stdout.flush()
    sys.exit(0)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if late[1] is not None and time.monotonic() > late[1]:
            late[0] += 1
        if "slow" in self.path:
            time.sleep(0.02)
        body = f"pod {name}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

server = http.server.ThreadingHTTPServer((ip, port), Handler)
server.daemon_threads = True
signal.signal(signal.SIGUSR1, marked)
signal.signal(signal.SIGTERM, stopped)
print("ready", flush=True)
server.serve_forever()
"""


class Pod:
    """One backend "pod": a Python HTTP/1.1 server process of its own on ip:port answering
    `pod NAME` (/slow after 20 ms). It counts requests that arrive more than `settle` seconds
    after it was told it is terminating (SIGUSR1): those are new requests sent to a terminating
    endpoint, which must not happen. Stopping it (SIGTERM) ends the process and every connection
    to it at once, as the kubelet's SIGKILL at the end of the grace period does."""

    def __init__(self, work, ip, port, name, settle):
        script = os.path.join(work, "pod.py")
        if not os.path.exists(script):
            with open(script, "w") as f:
                f.write(POD_SCRIPT)
        self.ip = ip
        self.proc = subprocess.Popen(["nice", "-n", "19", sys.executable, script, ip, str(port),
                                      name, str(settle)], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"pod {name} on {ip}:{port} did not start")

    def mark_terminating(self):
        self.proc.send_signal(signal.SIGUSR1)

    def stop(self):
        """Stops the pod; returns how many new requests reached it while terminating."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        for line in out.splitlines():
            if line.startswith("late "):
                return int(line.split()[1])
        return 0


class TlsClient(Client):
    """Client over TLS to TLS_HOST (SNI) on 127.0.0.1; `fresh` opens a new connection for every
    request. Remembers the SHA-256 of the last certificate the listener presented."""

    CONTEXT = ssl.create_default_context()
    CONTEXT.check_hostname = False
    CONTEXT.verify_mode = ssl.CERT_NONE  # the bench compares certificates itself

    def __init__(self, port, fresh=False):
        super().__init__(port)
        self.fresh = fresh
        self.certificate = None

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        tls = self.CONTEXT.wrap_socket(sock, server_hostname=TLS_HOST)
        self.certificate = hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.sock = tls
        return conn

    def get(self, host=TLS_HOST, path="/"):
        if self.fresh:
            self.close()
        return super().get(host, path)


class SteadyLoad:
    """Client threads making requests until stopped, counting requests and failures (no answer,
    or not 200). Each thread has its own connection (see Client)."""

    def __init__(self, clients, host, paths):
        self.requests = 0
        self.failed = 0
        self.examples = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(c, host, p), daemon=True)
                        for c, p in zip(clients, paths)]
        for t in self.threads:
            t.start()

    def run(self, client, host, path):
        while not self.stop.is_set():
            status, body, _ = client.get(host, path)
            with self.lock:
                self.requests += 1
                if status != 200:
                    self.failed += 1
                    if len(self.examples) < 5:
                        self.examples.append((status, body[:80] if isinstance(body, bytes) else body))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)
        return self


def fingerprint(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.decode())).hexdigest()


def probe_hosts(n, rng):
    """The hosts whose answers say a start served all N routes: the first, the last and 20
    random ones (the table is swapped whole, so then all are served)."""
    return [f"r{i}.bench.local" for i in sorted({0, n - 1} | set(rng.sample(range(n), min(n, 20))))]


def wait_for(predicate, timeout, interval=0.002):
    """Polls predicate until true; returns seconds waited, or None on timeout."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            return None
        time.sleep(interval)


class AdminMetrics:
    """Portico's own meters, read from the admin API's /metrics (Prometheus text)."""

    def __init__(self, port):
        self.port = port

    def read(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def propagation(self, path):
        """(count, sum in seconds) of portico_config_propagation_seconds on path: from the
        moment Portico's provider saw a change to the proxies being given it."""
        values = self.read()
        label = f'{{path="{path}"}}'
        return (values.get("portico_config_propagation_seconds_count" + label, 0),
                values.get("portico_config_propagation_seconds_sum" + label, 0))

    def propagated_since(self, path, before, timeout=1.0):
        """Seconds of propagation on path recorded since `before` (a propagation() reading),
        waiting briefly for the record (it follows the publication by microseconds); None
        when none was recorded."""
        deadline = time.monotonic() + timeout
        while True:
            count, total = self.propagation(path)
            if count > before[0]:
                return total - before[1]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.002)

    def status_writer_busy(self):
        return self.read().get("portico_status_writer_busy", 0) != 0

    def await_status_settled(self, timeout):
        """Waits until Portico's status writer has nothing queued or in flight; seconds waited."""
        return wait_for(lambda: not self.status_writer_busy(), timeout, 0.005)


class PodFleet:
    """The `roll` Service's pods: Pod processes on 127.0.0.11, .12 ... (one address per pod, as
    in a cluster), all on one port, and the EndpointSlice that lists them."""

    def __init__(self, work, store, port, grace, settle):
        self.work, self.store, self.port = work, store, port
        self.grace, self.settle = grace, settle
        self.started = 0
        self.pods = []  # [Pod, state]

    def start_pod(self):
        ip = f"127.0.0.{11 + self.started}"
        self.started += 1
        return Pod(self.work, ip, self.port, f"p{self.started}", self.settle)

    def slice(self):
        return roll_slice([(pod.ip, state) for pod, state in self.pods], self.port)

    def publish(self):
        self.store.put(self.slice())

    def roll(self):
        """Replaces every pod, one at a time, as a Deployment's rolling update does (maxSurge 1,
        maxUnavailable 0): the new pod starts and is listed ready; the old one is listed
        terminating and keeps serving the grace period, then stops and leaves the slice.
        Returns how many new requests reached a pod after it had been terminating `settle` s."""
        late = 0
        for _ in range(len(self.pods)):
            self.pods.append([self.start_pod(), "ready"])
            self.publish()
            time.sleep(0.2)
            old = self.pods[0]
            old[1] = "terminating"
            self.publish()
            old[0].mark_terminating()
            time.sleep(self.grace)
            late += old[0].stop()
            self.pods.remove(old)
            self.publish()
            time.sleep(0.2)
        return late

    def stop_all(self):
        for pod, _ in self.pods:
            pod.stop()
        self.pods = []


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def live_heap(pid):
    """The live heap of `pid` after the full collection GC.class_histogram makes: (total bytes,
    [(class, bytes)] of the 6 largest), or None when jcmd is missing or fails."""
    try:
        out = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    total, top = None, []
    for line in out.splitlines():
        fields = line.split()
        if fields[:1] == ["Total"]:
            total = int(fields[2])
        elif len(fields) >= 4 and fields[0].endswith(":") and len(top) < 6:
            top.append((fields[3], int(fields[2])))
    return (total, top) if total is not None else None


def cpu_seconds(pid):
    """User + system CPU time of a process so far (what a busy machine does not inflate)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(samples):
    if not samples:
        return "n/a"
    ms = sorted(s * 1000 for s in samples)

    def pct(p):
        return ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]
    return f"{pct(50):.0f} / {pct(99):.0f} / {ms[-1]:.0f} ms"


def start_nginx(work, port_base):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        sys.exit("nginx not found: apt-get install -y nginx-light")
    servers = "\n".join(
        f"  server {{ listen 127.0.0.1:{port_base + k}; access_log off;"
        f" location / {{ return 200 'port {port_base + k}\\n'; }} }}" for k in range(1, 5))
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
  keepalive_requests 1000000;
{servers}
}}
""")
    return subprocess.Popen(["nice", "-n", "19", nginx, "-p", work, "-c", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_sizes(sizes):
    """Runs this script once per route count, each in a process of its own (so that no run
    inherits another's Portico, nginx or mock API server), prints each run's output as it
    comes, then the first table's rows of every run together. Returns the exit status."""
    header, rows, status = None, [], 0
    for n in sizes:
        argv, rest = [], iter(sys.argv[1:])
        for a in rest:  # every argument but --routes and its value
            if a == "--routes":
                next(rest, None)
            elif not a.startswith("--routes="):
                argv.append(a)
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--routes", str(n)] + argv,
                                stdout=subprocess.PIPE, text=True)
        row = None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("| routes |") and header is None:
                header = line
            if line.startswith(f"| {n:,} |") and row is None:
                row = line
        status = proc.wait() or status
        rows.append(row or f"| {n:,} | (run failed: exit status {proc.returncode}) |\n")
        print(flush=True)
    print("All sizes:")
    if header:
        print(header, end="")
        print("|" + "---|" * (header.count("|") - 1))
    for row in rows:
        print(row, end="")
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--routes", default="1000",
                    help="N HTTPRoutes (1000, 5000, 10000, 20000), or several separated by commas: "
                         "one run each, one after the other, then their rows in one table")
    ap.add_argument("--samples", type=int, default=20, help="samples per latency (>= 20)")
    ap.add_argument("--changes", type=int, default=200, help="route changes before the second RSS")
    ap.add_argument("--port-base", type=int, default=19000)
    ap.add_argument("--jar", default="target/portico.jar")
    ap.add_argument("--java-opts", default="", help="JVM flags for Portico (default: none)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a wait gives up")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--raw", action="store_true",
                    help="also print every latency sample in the order it was taken")
    ap.add_argument("--roll-pods", type=int, default=3, help="pods of the Service rolled under load")
    ap.add_argument("--grace", type=float, default=1.0,
                    help="seconds a terminating pod keeps serving before it stops")
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds after which a request reaching a terminating pod counts as sent to it")
    ap.add_argument("--rotations", type=int, default=5, help="certificate Secret replacements under load")
    ap.add_argument("--provider", choices=["file", "kubernetes"], default="file",
                    help="where the objects live: files (run --config) or the mock API server")
    ap.add_argument("--kubectl-apply", action="store_true",
                    help="Kubernetes: objects carry the annotation `kubectl apply` leaves "
                         "(kubectl.kubernetes.io/last-applied-configuration: the object as JSON)")
    ap.add_argument("--overlap-status", action="store_true",
                    help="Kubernetes: start each latency sample without waiting for Portico's "
                         "status writes of the one before (portico_status_writer_busy) to end")
    ap.add_argument("--live-heap", action="store_true",
                    help="at the end, the live heap after a full collection (jcmd "
                         "GC.class_histogram) and its largest classes")
    args = ap.parse_args()
    if not os.path.exists(args.jar):
        sys.exit(f"{args.jar} missing: mvn -q -DskipTests package")
    sizes = [int(x) for x in args.routes.split(",") if x.strip()]
    if len(sizes) > 1:
        sys.exit(run_sizes(sizes))

    n = sizes[0]
    listener = args.port_base + 80
    admin = args.port_base + 99
    work = tempfile.mkdtemp(prefix="portico-scale-")
    rng = random.Random(11)
    slice_port = {s: args.port_base + 1 for s in range(SERVICES)}
    mock = None
    if args.provider == "kubernetes":
        mock, kubeconfig = start_mock_api(work, args.port_base + 98)
        store = ApiStore(args.port_base + 98, kubeconfig, args.kubectl_apply)
    else:
        store = FileStore(os.path.join(work, "config"))
    https = args.port_base + 81
    fleet = PodFleet(work, store, args.port_base + 10, args.grace, args.settle)
    fleet.pods = [[fleet.start_pod(), "ready"] for _ in range(args.roll_pods)]
    certificates = [new_certificate(work, k) for k in range(args.rotations + 1)]
    t_setup = time.monotonic()
    store.setup(listener, n, slice_port, roll_objects(listener) + [fleet.slice()]
                + tls_objects(https) + [tls_secret(*certificates[0])])
    setup_s = time.monotonic() - t_setup

    nginx = start_nginx(work, args.port_base)
    log = open(os.path.join(work, "portico.log"), "w")
    provider_args, provider_env = store.portico_args()
    # glibc's arenas as the Dockerfile (and so k8s/) ships them; an exported value wins.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    cmd = ["nice", "-n", "19", "java"] + args.java_opts.split() + [
        "-jar", args.jar, "run"] + provider_args + ["--bind", "127.0.0.1", "--port-offset", "0",
        "--admin", f"127.0.0.1:{admin}"]
    rows = {}
    errors = {"requests": 0, "failed": 0, "examples": []}
    portico = None
    try:
        client = Client(listener)
        t0 = time.monotonic()
        portico = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, **provider_env))
        probes = probe_hosts(n, rng)
        served = wait_for(lambda: all(client.get(h)[0] == 200 for h in probes), args.timeout, 0.01)
        if served is None:
            raise SystemExit(f"routes not served after {args.timeout}s; see {work}/portico.log")
        rows["start"] = time.monotonic() - t0
        rows["rss_start"] = rss_mib(portico.pid)
        not_served = [i for i in range(n) if client.get(f"r{i}.bench.local")[0] != 200]
        rows["not_served_at_start"] = len(not_served)
        if isinstance(store, ApiStore):
            # Issue 11: every route's status is written, however many routes.
            rows["status_all"] = wait_for(lambda: store.routes_with_status() >= n, args.timeout, 0.5)
            rows["status_count"] = store.routes_with_status()

        # A steady client on routes the churn never touches: the first SERVICES routes.
        stop = threading.Event()

        def steady():
            c = Client(listener)
            k = 0
            while not stop.is_set():
                status, body, _ = c.get(f"r{k % SERVICES}.bench.local")
                errors["requests"] += 1
                if status != 200:
                    errors["failed"] += 1
                    if len(errors["examples"]) < 5:
                        errors["examples"].append((status, body[:80] if isinstance(body, bytes) else body))
                k += 1
        steady_thread = threading.Thread(target=steady, daemon=True)
        steady_thread.start()

        # 200 route changes: each a new response header on a route outside the steady set.
        changed = list(range(SERVICES, n)) if n > SERVICES else list(range(n))
        last = None
        for k in range(args.changes):
            i = changed[k % len(changed)]
            store.put_route(i, i % SERVICES, extra_header=f"g{k}")
            last = (i, f"g{k}")
            time.sleep(0.005)
        waited = None if last is None else wait_for(
            lambda: client.get(f"r{last[0]}.bench.local")[2].get("x-bench-generation") == last[1],
            args.timeout, 0.005)
        rows["changes_served"] = waited
        rows["rss_changes"] = rss_mib(portico.pid)
        # One reading moves by +-20 MiB with what the JIT is compiling at that moment (C2's
        # memory, given back within TrimNativeHeapInterval): sample until the end of the run too.
        rss_samples = [rows["rss_changes"]]

        def sample_rss():
            while not rss_stop.wait(0.5):
                try:
                    rss_samples.append(rss_mib(portico.pid))
                except (OSError, ValueError):
                    return
        rss_stop = threading.Event()
        rss_thread = threading.Thread(target=sample_rss, daemon=True)
        rss_thread.start()

        # New routes: one at a time, each waited for. In Kubernetes mode each starts once
        # Portico's status writes (of the churn, of the sample before) are done: the mock API
        # server scans every object on every request, so a write still in flight there delays
        # the next sample's request by milliseconds a real API server does not add.
        admin_metrics = AdminMetrics(admin)
        settle = isinstance(store, ApiStore) and not args.overlap_status
        settle_waits = []

        def settle_status():
            if settle:
                w = admin_metrics.await_status_settled(args.timeout)
                settle_waits.append(w if w is not None else float("nan"))

        new_samples, new_timeouts, api_samples, after_api, new_at = [], 0, [], [], []
        new_portico = []
        cpu_before = cpu_seconds(portico.pid)
        for k in range(args.samples):
            i = n + k
            host = f"r{i}.bench.local"
            settle_status()
            before = admin_metrics.propagation("translation")
            t = time.monotonic()
            answered = store.create_route(i, i % SERVICES)
            w = wait_for(lambda: client.get(host)[0] == 200, args.timeout)
            if w is None:
                new_timeouts += 1
            else:
                new_samples.append(time.monotonic() - t)
                new_at.append(t - t0)
                new_portico.append(admin_metrics.propagated_since("translation", before))
                if answered is not None:
                    api_samples.append(answered)
                    after_api.append(new_samples[-1] - answered)
        rows["cpu_new"] = (cpu_seconds(portico.pid) - cpu_before) / args.samples
        # EndpointSlice changes: move one Service to another nginx port; its routes answer from it.
        ep_samples, ep_timeouts, ep_api, ep_after_api, ep_at = [], 0, [], [], []
        ep_portico = []
        cpu_before = cpu_seconds(portico.pid)
        for k in range(args.samples):
            s = SERVICES - 1 - (k % SERVICES)
            port = args.port_base + 1 + ((slice_port[s] - args.port_base) % 4)
            slice_port[s] = port
            host = f"r{s + SERVICES if n > s + SERVICES else s}.bench.local"
            expect = f"port {port}".encode()
            settle_status()
            before = admin_metrics.propagation("endpoints")
            t = time.monotonic()
            answered = store.put_slice(s, port)
            w = wait_for(lambda: client.get(host)[1].strip() == expect, args.timeout)
            if w is None:
                ep_timeouts += 1
            else:
                ep_samples.append(time.monotonic() - t)
                ep_at.append(t - t0)
                ep_portico.append(admin_metrics.propagated_since("endpoints", before))
                if answered is not None:
                    ep_api.append(answered)
                    ep_after_api.append(ep_samples[-1] - answered)
        rows["cpu_ep"] = (cpu_seconds(portico.pid) - cpu_before) / args.samples
        stop.set()
        steady_thread.join(10)
        rows["new"] = percentiles(new_samples) + (f" ({new_timeouts} timed out)" if new_timeouts else "")
        if api_samples:
            rows["new_api"] = (percentiles(api_samples), percentiles(after_api))
        rows["ep"] = percentiles(ep_samples) + (f" ({ep_timeouts} timed out)" if ep_timeouts else "")
        if ep_api:
            rows["ep_api"] = (percentiles(ep_api), percentiles(ep_after_api))
        rows["new_portico"] = new_portico
        rows["ep_portico"] = ep_portico
        rows["settle_waits"] = settle_waits

        # Endpoint rolls under load: one keep-alive client plus two on /slow (20 ms at the pod,
        # so requests are in flight when a pod is marked terminating), once per route.
        for host in ("roll.bench.local", "roll-retry.bench.local"):
            if wait_for(lambda: client.get(host)[0] == 200, args.timeout) is None:
                raise SystemExit(f"{host} not served; see {work}/portico.log")
            load = SteadyLoad([Client(listener) for _ in range(3)], host, ["/", "/slow", "/slow"])
            time.sleep(0.5)
            late = fleet.roll()
            time.sleep(0.5)
            rows[host] = (load.finish(), late)

        # Secret rotation under load: a keep-alive TLS client and one opening a connection for
        # every request; after each new Secret a probe waits for the new certificate.
        tls_probe = TlsClient(https, fresh=True)
        if wait_for(lambda: tls_probe.get()[0] == 200, args.timeout) is None:
            raise SystemExit(f"{TLS_HOST} not served over TLS; see {work}/portico.log")
        load = SteadyLoad([TlsClient(https), TlsClient(https, fresh=True)], TLS_HOST, ["/", "/"])
        rotation_samples, rotation_timeouts = [], 0
        time.sleep(0.5)
        for cert, key in certificates[1:]:
            expect = fingerprint(cert)
            t = time.monotonic()
            store.put(tls_secret(cert, key))
            w = wait_for(lambda: tls_probe.get()[0] == 200 and tls_probe.certificate == expect,
                         args.timeout)
            if w is None:
                rotation_timeouts += 1
            else:
                rotation_samples.append(time.monotonic() - t)
            time.sleep(0.5)
        rows["rotation"] = (load.finish(), percentiles(rotation_samples)
                            + (f" ({rotation_timeouts} timed out)" if rotation_timeouts else ""))
        rss_stop.set()
        rss_thread.join(5)
        rss_samples.sort()
        rows["rss_after"] = (rss_samples[0], rss_samples[len(rss_samples) // 2], rss_samples[-1],
                             len(rss_samples))
        if args.live_heap:
            rows["live_heap"] = live_heap(portico.pid)
    finally:
        if portico is not None:
            portico.terminate()
            try:
                portico.wait(10)
            except subprocess.TimeoutExpired:
                portico.kill()
        nginx.terminate()
        nginx.wait(10)
        fleet.stop_all()
        if mock is not None:
            mock.terminate()
            mock.wait(10)
        log.close()

    print(f"provider: {args.provider} ({n:,} routes and {SERVICES} Services written in {setup_s:.1f} s before start)")
    print("| routes | start -> all served | RSS after start | RSS after %d route changes | "
          "new route served (p50 / p99 / max of %d) | EndpointSlice change served (p50 / p99 / max of %d) | "
          "errors seen by a steady client during churn |" % (args.changes, args.samples, args.samples))
    print("|---|---|---|---|---|---|---|")
    print(f"| {n:,} | {rows['start']:.1f} s | {rows['rss_start']:.0f} MiB | {rows['rss_changes']:.0f} MiB | "
          f"{rows['new']} | {rows['ep']} | {errors['failed']} of {errors['requests']:,} |")
    print(f"Portico CPU time per sample (user + system, the steady client's requests included): "
          f"new route {rows['cpu_new'] * 1000:.0f} ms, EndpointSlice change {rows['cpu_ep'] * 1000:.0f} ms")
    if "rss_after" in rows:
        print("RSS from the end of the route changes to the end of the run (every 0.5 s, %d samples): "
              "min %.0f / median %.0f / max %.0f MiB" % (rows["rss_after"][3], *rows["rss_after"][:3]))
    if rows.get("live_heap"):
        total, top = rows["live_heap"]
        print(f"live heap after a full collection: {total / 1e6:.1f} MB; largest: "
              + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in top))
    if "new_api" in rows:
        print(f"new route: the API server answered the create in {rows['new_api'][0]}; "
              f"served after that answer in {rows['new_api'][1]} (the watch's delivery included)")
    if "ep_api" in rows:
        print(f"EndpointSlice change: the API server answered the update in {rows['ep_api'][0]}; "
              f"served after that answer in {rows['ep_api'][1]}")
    for key, label in (("new_portico", "new route"), ("ep_portico", "EndpointSlice change")):
        timed = [x for x in rows.get(key, []) if x is not None]
        if timed:
            print(f"{label}: Portico's own share (portico_config_propagation_seconds, from the "
                  f"change seen to the proxies given it; {len(timed)} of {len(rows[key])} "
                  f"samples timed): {percentiles(timed)}")
    if rows.get("settle_waits"):
        print("each sample started once Portico's status writes were done (waited %s; "
              "--overlap-status: not)" % percentiles(rows["settle_waits"]))
    if "rotation" in rows:
        print()
        print(f"| under steady load ({args.provider}) | requests | failed | notes |")
        print("|---|---|---|---|")
        for host, label in (("roll.bench.local", "endpoint roll, no retry policy"),
                            ("roll-retry.bench.local", "endpoint roll, HTTPRoute retry")):
            load, late = rows[host]
            print(f"| {label} ({args.roll_pods} pods replaced one by one, {args.grace:g} s grace) | "
                  f"{load.requests:,} | {load.failed} | new requests reaching a pod "
                  f">{args.settle:g} s after it was marked terminating: {late} |")
        load, served = rows["rotation"]
        print(f"| Secret rotation ({args.rotations} new certificates, keep-alive + new connections) | "
              f"{load.requests:,} | {load.failed} | new certificate served (p50 / p99 / max): {served} |")
        for load in [rows[h][0] for h in ("roll.bench.local", "roll-retry.bench.local")] + [rows["rotation"][0]]:
            if load.examples:
                print("error examples:", load.examples)
    if "status_count" in rows:
        when = ("all written %.1f s after all were served" % rows["status_all"]
                if rows["status_all"] is not None else f"not all within {args.timeout:.0f} s")
        print(f"route status written by Portico: {rows['status_count']:,} of {n:,} routes ({when})")
    if rows.get("not_served_at_start"):
        print(f"WARNING: {rows['not_served_at_start']} routes did not answer 200 after start")
    if args.changes == 0:
        pass
    elif rows.get("changes_served") is None:
        print(f"WARNING: the last of {args.changes} route changes was not served within {args.timeout}s")
    else:
        print(f"(last of {args.changes} route changes served {rows['changes_served'] * 1000:.0f} ms after it was written)")
    if errors["examples"]:
        print("error examples:", errors["examples"])
    if args.raw:
        print("new route samples (ms):", " ".join(f"{x * 1000:.0f}" for x in new_samples))
        print("  Portico's share (ms):", " ".join(
            "-" if x is None else f"{x * 1000:.0f}" for x in rows.get("new_portico", [])))
        print("  taken at (s after launch, to set beside -Xlog:gc's uptime):",
              " ".join(f"{x:.2f}" for x in new_at))
        print("EndpointSlice samples (ms):", " ".join(f"{x * 1000:.0f}" for x in ep_samples))
        if ep_api:
            print("  of which the API server's answer (ms):", " ".join(f"{x * 1000:.0f}" for x in ep_api))
        print("  Portico's share (ms):", " ".join(
            "-" if x is None else f"{x * 1000:.0f}" for x in rows.get("ep_portico", [])))
        print("  taken at (s after launch):", " ".join(f"{x:.2f}" for x in ep_at))
    if args.keep:
        print("work directory:", work)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
