"""Runs the benchmark: for each N, a generated workload in a fresh emulator,
a clean scan (must find nothing), the drift profile, then `tfdrift scan`
and the floor, several times each; and, for the peer sizes, the same mix
applied by real Terraform, with `terraform plan -refresh-only` beside
tfdrift and the floor. Results go to OUT/results.json; a markdown table is
printed at the end (bench/results.md is written from it by hand, with the
machine and the analysis).

    run.py [--sizes 1000] [--cached-sizes 1000,10000,50000] [--peer 1000]
           [--repeat 3] [--tfdrift PATH] [--out DIR]

See bench/README.md.
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = pathlib.Path(os.environ.get("TFDRIFT_CACHE", pathlib.Path.home() / ".cache" / "tfdrift"))
PYTHON = CACHE / "venv" / "bin" / "python"
sys.path.insert(0, str(HERE))

import floor  # noqa: E402
import tfconfig  # noqa: E402

DRIFT = {"changed_pct": 2.0, "deleted_pct": 1.0, "unmanaged_pct": 1.0, "seed": 1}


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


class Emulator:
    """bench/emulator.py in a child process; stopped by stop() or on exit."""

    def __init__(self, logfile, workload=None, state=None, cache=False):
        cmd = [str(PYTHON), str(HERE / "emulator.py")]
        if cache:
            cmd.append("--cache-pages")
        if workload:
            cmd += ["--workload", str(workload), "--state", str(state)]
        self.log = open(logfile, "w")  # its request log
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.generated = None
        for line in self.proc.stdout:
            if line.startswith("GENERATED"):
                self.generated = float(line.split()[1].rstrip("s"))
            if line.startswith("PORT"):
                self.port = int(line.split()[1])
                break
        else:
            raise SystemExit("the emulator exited before it listened")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def http(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=3600) as r:
            return json.loads(r.read() or b"{}")

    def calls(self):
        return self.http("GET", "/_harness/calls")

    def reset_calls(self):
        self.http("DELETE", "/_harness/calls")

    def drift(self, state):
        return self.http("POST", "/_bench/drift", {"state": str(state), **DRIFT})

    def stop(self):
        self.proc.stdin.close()  # the emulator exits when its stdin closes
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


_STAMP = re.compile(r"^(\S+Z)\s+\w+\s+\S+?:\s+(\w+)")


def _ts(text):
    """RFC 3339 (tracing's and the report's) -> seconds since the epoch."""
    text = text.rstrip("Z")
    base, _, frac = text.partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() + (float("0." + frac) if frac else 0.0)


def scan(tfdrift, emu, state, workdir, extra=()):
    """One `tfdrift scan --format json`: wall time, rusage, phases, report."""
    out, err = workdir / "report.json", workdir / "scan.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": emu.endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        # "scanning" (info) is logged once the states are read; each
        # listing logs "listed" (debug) when it is done.
        "RUST_LOG": "warn,tfdrift=debug",
        "NO_COLOR": "1",
    }
    cmd = [str(tfdrift), "scan", "--state", str(state), "--format", "json", "--region", "us-east-1", *extra]
    with open(out, "wb") as o, open(err, "wb") as e:
        t0 = time.time()
        m0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=o, stderr=e, env=env, cwd=workdir)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - m0
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    report = json.loads(out.read_text())
    scanning, listed = None, []
    for line in err.read_text().splitlines():
        m = _STAMP.match(line)
        if not m:
            continue
        if "scanning" in line and scanning is None:
            scanning = _ts(m.group(1))
        if " listed" in line:
            listed.append(_ts(m.group(1)))
    started = _ts(report["scan"]["started_at"])
    finished = _ts(report["scan"]["finished_at"])
    t_end = t0 + wall
    phases = {
        # process start, state read and parse, regions
        "read_state": (scanning or started) - t0,
        # SDK configuration, clients
        "sdk_setup": started - (scanning or started),
        # every listing, concurrently: API wait + deserialise + normalise
        "list": (max(listed) if listed else finished) - started,
        "diff": finished - (max(listed) if listed else finished),
        # grade, summary, JSON, write, exit
        "grade_render": t_end - finished,
    }
    return {
        "exit_code": code,
        "wall": round(wall, 4),
        "user": round(usage.ru_utime, 4),
        "sys": round(usage.ru_stime, 4),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "phases": {k: round(v, 4) for k, v in phases.items()},
        "report": report,
    }


def findings(report):
    got = {"changed": [], "missing": [], "unmanaged": []}
    for f in report["findings"]:
        if f["kind"] == "unmanaged":
            got["unmanaged"].append([f["type"], f["id"]])
        else:
            got[f["kind"]].append(f["address"])
    return {k: sorted(v) for k, v in got.items()}


def check(report, expected):
    """Differences between what the scan found and what the drift did."""
    got = findings(report)
    diff = {}
    for kind in got:
        want = sorted(expected[kind])
        if got[kind] != want:
            g = {json.dumps(x) for x in got[kind]}
            w = {json.dumps(x) for x in want}
            diff[kind] = {"unexpected": sorted(g - w)[:20], "not_found": sorted(w - g)[:20]}
    if not report["scan"]["complete"]:
        diff["incomplete"] = report["scan"]["errors"]
    return diff


def measure(tfdrift, emu, state, workdir, repeat, expected, n, extra=()):
    """Scans and floors, interleaved so load changes hit both alike."""
    scans, floors = [], []
    for r in range(repeat):
        emu.reset_calls()
        s = scan(tfdrift, emu, state, workdir, extra)
        s["calls"] = emu.calls()
        problems = check(s["report"], expected)
        s["correct"] = not problems
        if problems:
            log(f"N={n}: scan {r + 1} differs from the drift applied: {json.dumps(problems)[:2000]}")
        s["summary"] = s["report"]["summary"]
        del s["report"]
        scans.append(s)
        log(f"N={n}: tfdrift scan {' '.join(extra)} {r + 1}: {s['wall']:.2f}s, cpu {s['user'] + s['sys']:.2f}s, "
            f"rss {s['max_rss_mb']} MB, exit {s['exit_code']}, phases {s['phases']}")
        emu.reset_calls()
        f = floor.run(emu.port)
        floors.append(f)
        log(f"N={n}: floor {r + 1}: {f['seconds']:.2f}s")
    return scans, floors


def clean_scan(tfdrift, emu, state, workdir, n):
    s = scan(tfdrift, emu, state, workdir)
    found = findings(s["report"])
    clean = s["exit_code"] == 0 and not any(found.values())
    log(f"N={n}: clean scan: exit {s['exit_code']}, {sum(map(len, found.values()))} findings, "
        f"{s['wall']:.2f}s")
    if not clean:
        (workdir / "clean-report.json").write_text(json.dumps(s["report"], indent=1))
        log(f"N={n}: NOT CLEAN; report kept in {workdir / 'clean-report.json'}")
    return {"clean": clean, "exit_code": s["exit_code"], "findings": {k: len(v) for k, v in found.items()},
            "wall": s["wall"]}


def warm(emu, n):
    """One pass of the floor's calls: with --cache-pages it fills the cache;
    either way its time is what moto itself takes to serve the listings."""
    f = floor.run(emu.port)
    log(f"N={n}: floor pass against moto itself (uncached): {f['seconds']:.2f}s")
    return f


def generated_run(n, args, cache):
    workdir = args.out / (f"gen-{n}" + ("-cached" if cache else ""))
    workdir.mkdir(parents=True, exist_ok=True)
    state = workdir / "bench.tfstate"
    log(f"N={n}: generating the workload in the emulator" + (" (pages cached)" if cache else ""))
    started = time.monotonic()
    emu = Emulator(workdir / "emulator.log", workload=n, state=state, cache=cache)
    try:
        result = {"n": n, "cached": cache, "generate_seconds": emu.generated,
                  "emulator_ready_seconds": round(time.monotonic() - started, 1),
                  "state_mb": round(state.stat().st_size / 2**20, 1)}
        log(f"N={n}: generated in {emu.generated}s, state {result['state_mb']} MB")
        if cache:
            result["moto_floor_clean"] = warm(emu, n)
        result["clean"] = clean_scan(args.tfdrift, emu, state, workdir, n)
        expected = emu.drift(state)
        result["drift"] = {k: len(v) for k, v in expected.items()}
        if cache:
            result["moto_floor"] = warm(emu, n)
        result["scans"], result["floors"] = measure(args.tfdrift, emu, state, workdir, args.repeat, expected, n)
    finally:
        emu.stop()
    return result


def peer_run(n, args):
    workdir = args.out / f"peer-{n}"
    if workdir.exists():
        subprocess.run(["rm", "-rf", str(workdir)], check=True)
    workdir.mkdir(parents=True)
    tfconfig.write(n, workdir)
    emu = Emulator(workdir / "emulator.log")
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(CACHE / "terraformrc"), TF_VAR_endpoint=emu.endpoint,
               TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    try:
        log(f"N={n}: terraform apply of the same mix")
        applied = _peer(["apply", str(workdir), str(args.apply_parallelism)], env)
        log(f"N={n}: applied in {applied['seconds']}s")
        state = workdir / "terraform.tfstate"
        result = {"n": n, "apply_seconds": applied["seconds"], "apply_parallelism": args.apply_parallelism,
                  "state_mb": round(state.stat().st_size / 2**20, 1)}
        result["clean"] = clean_scan(args.tfdrift, emu, state, workdir, n)
        expected = emu.drift(state)
        result["drift"] = {k: len(v) for k, v in expected.items()}
        result["scans"], result["floors"] = measure(args.tfdrift, emu, state, workdir, args.repeat, expected, n)
        # Attribution paces CloudTrail at its 2 calls a second; the drift
        # scan itself, which is what `plan -refresh-only` does, without it:
        result["scans_no_attribution"], result["floors_2"] = measure(
            args.tfdrift, emu, state, workdir, args.repeat, expected, n, ("--no-attribution",))
        result["terraform"] = []
        for r in range(args.repeat):
            emu.reset_calls()
            p = _peer(["plan", str(workdir)], env, timeout=args.peer_timeout)
            p["calls"] = emu.calls()
            result["terraform"].append(p)
            log(f"N={n}: terraform plan -refresh-only {r + 1}: {p.get('seconds')}s, "
                f"{sum(p['calls'].values())} calls, {p.get('drifted')} drifted")
            if p.get("timed_out"):
                break
    finally:
        emu.stop()
    return result


def _peer(argv, env, timeout=None):
    started = time.monotonic()
    try:
        proc = subprocess.run([str(PYTHON), str(HERE / "peer.py"), *argv], env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "seconds": round(time.monotonic() - started, 1)}
    if proc.returncode != 0:
        raise SystemExit(f"peer.py {argv[0]} failed:\n{proc.stderr[-5000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best(items, key):
    return min(items, key=lambda x: x[key])


def median(values):
    v = sorted(values)
    return v[len(v) // 2]


def table(results):
    rows = ["| N | calls (by op) | tfdrift wall (best / median) | floor (best / median) | ratio | CPU user+sys | "
            "peak RSS | phases of the best run: read state / list / diff / grade+render |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        s, f = best(r["scans"], "wall"), best(r["floors"], "seconds")
        calls = s["calls"]
        ops = ", ".join(f"{k.replace('Describe', '')} {v}" for k, v in sorted(calls.items()) if v > 1)
        p = s["phases"]
        label = f"{r['n']:,}" + (" Terraform-built" if "apply_seconds" in r else "") + (" cached" if r.get("cached") else "")
        rows.append(
            f"| {label} | {sum(calls.values())} ({ops or 'one per op'}) | {s['wall']:.2f} / {median([x['wall'] for x in r['scans']]):.2f} s | "
            f"{f['seconds']:.2f} / {median([x['seconds'] for x in r['floors']]):.2f} s | {s['wall'] / f['seconds']:.2f}x | "
            f"{s['user'] + s['sys']:.2f} s | {s['max_rss_mb']:.0f} MB | "
            f"{p['read_state']:.2f} / {p['list']:.2f} / {p['diff']:.3f} / {p['grade_render']:.3f} s |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="sizes against moto as it is")
    parser.add_argument("--cached-sizes", default="1000,10000,50000",
                        help="sizes against moto with repeated paged listings cached (emulator.py --cache-pages)")
    parser.add_argument("--peer", default="1000", help="sizes for the Terraform peer run ('' for none)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--apply-parallelism", type=int, default=50)
    parser.add_argument("--peer-timeout", type=int, default=600, help="seconds one plan may take")
    parser.add_argument("--tfdrift", type=pathlib.Path,
                        default=CACHE / "target-bench" / "release" / "tfdrift")
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.tfdrift = args.tfdrift.resolve()

    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "generated": [], "peer": []}
    path = args.out / "results.json"
    for n in [int(x) for x in args.sizes.split(",") if x]:
        results["generated"].append(generated_run(n, args, cache=False))
        path.write_text(json.dumps(results, indent=1))
    for n in [int(x) for x in args.cached_sizes.split(",") if x]:
        results["generated"].append(generated_run(n, args, cache=True))
        path.write_text(json.dumps(results, indent=1))
    for n in [int(x) for x in args.peer.split(",") if x]:
        results["peer"].append(peer_run(n, args))
        path.write_text(json.dumps(results, indent=1))
    print(table(results["generated"] + results["peer"]))
    for r in results["peer"]:
        plans = [p for p in r["terraform"] if not p.get("timed_out")]
        if plans:
            tf = best(plans, "seconds")["seconds"]
            s = best(r["scans"], "wall")["wall"]
            s2 = best(r["scans_no_attribution"], "wall")["wall"]
            f = best(r["floors"] + r["floors_2"], "seconds")["seconds"]
            print(f"\nN={r['n']}: terraform plan -refresh-only {tf:.2f}s (best of {len(plans)}), "
                  f"{sum(plans[0]['calls'].values())} calls; tfdrift {s:.2f}s, --no-attribution {s2:.2f}s; "
                  f"floor {f:.2f}s; terraform/tfdrift {tf / s:.1f}x, --no-attribution {tf / s2:.1f}x; "
                  f"terraform/floor {tf / f:.1f}x")
    log(f"results in {path}")


if __name__ == "__main__":
    main()
