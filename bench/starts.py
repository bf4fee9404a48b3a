#!/usr/bin/env python3
"""bench/starts.py: Kubernetes-mode starts at N routes, JVM flag variants interleaved (issue 11).

One mock API server (the same as bench/scale.py's, `--kubectl-apply` objects) holds N
HTTPRoutes; Portico is started against it, timed from the JVM's launch until the probe hosts
(first, last and 20 random routes) answer 200, stopped, and started again, the variants taking
turns so that a machine that drifts moves them all alike. Prints every start with its CPU time
(user + system of the JVM, and of the mock API server meanwhile), then per variant the sorted
starts, their median and CPU times.

    python3 bench/starts.py --routes 10000 --reps 3 --variant= --variant=-XX:TieredStopAtLevel=1

Each variant is JVM flags added to the README's (with the Kubernetes class-data archive).
Needs nginx and target/portico.jar; uses ports 19200-19299 (`--port-base`).
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402  (the mock API server, the objects, the client)

README_FLAGS = ("-XX:SharedArchiveFile=target/portico-kubernetes.jsa -XX:+UseSerialGC -Xms32m"
                " -Xmx256m -XX:MinHeapFreeRatio=30 -XX:MaxHeapFreeRatio=40"
                " -XX:ReservedCodeCacheSize=48m -Xss512k -XX:TrimNativeHeapInterval=2000")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", action="append", dest="variants",
                    help="JVM flags added to the README's (--variant=FLAGS; empty: none);"
                         " repeat for each variant")
    ap.add_argument("--routes", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3, help="starts per variant")
    ap.add_argument("--port-base", type=int, default=19200)
    ap.add_argument("--jar", default="target/portico.jar")
    args = ap.parse_args()
    args.variants = args.variants or [""]
    if not os.path.exists(args.jar):
        sys.exit(f"{args.jar} missing: mvn -q -DskipTests package")
    n, base = args.routes, args.port_base
    work = tempfile.mkdtemp(prefix="portico-starts-")
    mock, kubeconfig = scale.start_mock_api(work, base + 98)
    nginx = None
    try:
        store = scale.ApiStore(base + 98, kubeconfig, kubectl_apply=True)
        listener = base + 80
        store.setup(listener, n, {s: base + 1 for s in range(scale.SERVICES)}, [])
        nginx = scale.start_nginx(work, base)
        client = scale.Client(listener)
        probes = scale.probe_hosts(n, random.Random(11))
        env = dict(os.environ, KUBECONFIG=kubeconfig, POD_NAMESPACE="default",
                   POD_NAME="portico-starts", MALLOC_ARENA_MAX="2")
        results = {k: [] for k in range(len(args.variants))}
        for rep in range(args.reps):
            for k, variant in enumerate(args.variants):
                cmd = (["nice", "-n", "19", "java"] + README_FLAGS.split() + variant.split()
                       + ["-jar", args.jar, "run", "--kubernetes", "--bind", "127.0.0.1",
                          "--port-offset", "0", "--admin", f"127.0.0.1:{base + 99}"])
                with open(os.path.join(work, f"portico-{k}-{rep}.log"), "w") as log:
                    mock_cpu = scale.cpu_seconds(mock.pid)
                    t0 = time.monotonic()
                    portico = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
                    try:
                        served = scale.wait_for(
                            lambda: all(client.get(h)[0] == 200 for h in probes), 60, 0.01)
                        start = time.monotonic() - t0
                        cpu = scale.cpu_seconds(portico.pid)
                        mock_cpu = scale.cpu_seconds(mock.pid) - mock_cpu
                    finally:
                        portico.terminate()
                        portico.wait(10)
                if served is None:
                    sys.exit(f"variant {k} not served within 60 s; see {work}")
                results[k].append((start, cpu))
                print(f"rep {rep} variant {k}: start {start:.2f} s, CPU {cpu:.2f} s"
                      f" (mock API server {mock_cpu:.2f} s)", flush=True)
                time.sleep(2)
        for k, variant in enumerate(args.variants):
            starts = sorted(round(s, 2) for s, _ in results[k])
            print(f"variant {k} [{variant or 'README flags'}]: starts {starts}, median"
                  f" {starts[len(starts) // 2]} s, CPU {[round(c, 2) for _, c in results[k]]} s")
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        mock.terminate()
        mock.wait(10)


if __name__ == "__main__":
    main()
