#!/usr/bin/env python3
"""Renders scripts/bench result files (tab-separated, one run per line) as markdown tables.

  report.py load FILE SCENARIO TITLE   rounds of wrk runs: median (min-max) per target
  report.py callgrind FILE             instructions per proxied request
  report.py memory FILE                RSS per idle keep-alive connection
"""
import statistics
import sys

LOAD_FIELDS = ["scenario", "round", "target", "rps", "mbps", "p50_us", "p99_us",
               "cpu_s", "wall_s", "hwm_kb", "errors", "time_wait"]
ORDER = ["portico", "nginx", "haproxy", "direct"]


def rows(path, fields):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == len(fields):
                out.append(dict(zip(fields, parts)))
    return out


def num(value):
    return None if value in ("", "-") else float(value)


def fmt(value, digits):
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def spread(values, digits):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med, digits)
    return f"{fmt(med, digits)} ({fmt(min(values), digits)}–{fmt(max(values), digits)})"


def targets_of(runs):
    seen = {r["target"] for r in runs}
    return [t for t in ORDER if t in seen] + sorted(seen - set(ORDER))


def load(path, scenario, title):
    runs = [r for r in rows(path, LOAD_FIELDS) if r["scenario"] == scenario]
    if not runs:
        return f"### {title}\n\n(no runs)\n"
    show_mbps = scenario in ("16k", "1m")
    by_round = {}
    for r in runs:
        rps, cpu, wall = num(r["rps"]), num(r["cpu_s"]), num(r["wall_s"])
        r["cores"] = cpu / wall if cpu is not None and wall else None
        r["per_core"] = rps / r["cores"] if r["cores"] else None
        by_round.setdefault(r["round"], {})[r["target"]] = r
    header = ["target", "req/s"]
    if show_mbps:
        header.append("MB/s")
    header += ["p50 ms", "p99 ms", "proxy CPU s", "proxy cores", "req/s per proxy core",
               "× nginx req/s", "× nginx per core", "peak RSS MiB", "upstream TIME_WAIT", "errors"]
    lines = [f"### {title}", "",
             "| " + " | ".join(header) + " |",
             "|---|" + "---:|" * (len(header) - 1)]
    for target in targets_of(runs):
        mine = [r for r in runs if r["target"] == target]
        ratio_rps, ratio_core = [], []
        for r in mine:
            ref = by_round[r["round"]].get("nginx")
            if ref is None or target == "nginx":
                continue
            if num(ref["rps"]):
                ratio_rps.append(num(r["rps"]) / num(ref["rps"]))
            if r["per_core"] and ref["per_core"]:
                ratio_core.append(r["per_core"] / ref["per_core"])
        cells = [target, spread([num(r["rps"]) for r in mine], 0)]
        if show_mbps:
            cells.append(spread([num(r["mbps"]) for r in mine], 1))
        p50 = [num(r["p50_us"]) / 1000 for r in mine]
        p99 = [num(r["p99_us"]) / 1000 for r in mine]
        cells += [spread(p50, 2), spread(p99, 2),
                  spread([num(r["cpu_s"]) for r in mine], 2),
                  spread([r["cores"] for r in mine], 2),
                  spread([r["per_core"] for r in mine], 0),
                  spread(ratio_rps, 2) if target != "nginx" else "1",
                  spread(ratio_core, 2) if target not in ("nginx", "direct") else
                  ("1" if target == "nginx" else "—"),
                  spread([num(r["hwm_kb"]) / 1024 if num(r["hwm_kb"]) is not None else None
                          for r in mine], 1),
                  spread([num(r["time_wait"]) for r in mine], 0),
                  str(sum(int(r["errors"]) for r in mine))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"{len(by_round)} round(s); median (min–max). Proxy CPU = utime+stime from /proc "
                 "over the run; req/s per proxy core = req/s ÷ (CPU s ÷ wall s); "
                 "× nginx = ratio to nginx in the same round; peak RSS = VmHWM; upstream TIME_WAIT = "
                 "connections to the upstream closed during the run (sockets left in TIME_WAIT, "
                 "`ss`), i.e. upstream connection churn.")
    return "\n".join(lines) + "\n"


def callgrind(path):
    fields = ["target", "requests", "ir_run", "ir_base"]
    runs = rows(path, fields)
    per = {}
    for r in runs:
        n = int(r["requests"])
        per[r["target"]] = (int(r["ir_run"]) - int(r["ir_base"])) / (n - 1)
    lines = ["### Instructions per proxied request (callgrind, user space)", "",
             "| proxy | requests | Ir (run) | Ir (baseline, 1 request) | instructions / request "
             "| × nginx |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in sorted(runs, key=lambda r: ORDER.index(r["target"]) if r["target"] in ORDER else 99):
        ratio = per[r["target"]] / per["nginx"] if "nginx" in per else None
        lines.append(f"| {r['target']} | {int(r['requests']):,} | {int(r['ir_run']):,} | "
                     f"{int(r['ir_base']):,} | {per[r['target']]:,.0f} | "
                     f"{'—' if ratio is None else f'{ratio:.2f}'} |")
    lines.append("")
    lines.append("Instructions per request = (Ir of the run − Ir of a start/1 request/stop baseline) "
                 "÷ (requests − 1).")
    return "\n".join(lines) + "\n"


def ratelimit(path):
    per = {}
    exact = None
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "callgrind":
                _, case, requests, run, base = parts
                per[case] = (int(run) - int(base)) / (int(requests) - 1)
            elif parts[0] == "exact":
                _, rate, burst, micros, counts = parts
                total, admitted, refused = (int(x) for x in counts.split())
                exact = (float(rate), int(burst), int(micros) / 1e6, total, admitted, refused)
    lines = ["### Rate limiting (callgrind, user space, one worker)", "",
             "| route | instructions / request | × unlimited |", "|---|---:|---:|"]
    names = {"unlimited": "no rate limit (proxied)",
             "limited": "rate limit by client address, admitting (proxied)",
             "refused": "rate limit, refusing (429, nothing proxied)"}
    for case in ("unlimited", "limited", "refused"):
        if case in per:
            ratio = per[case] / per["unlimited"] if "unlimited" in per else None
            lines.append(f"| {names[case]} | {per[case]:,.0f} | "
                         f"{'—' if ratio is None else f'{ratio:.3f}'} |")
    if exact:
        rate, burst, seconds, total, admitted, refused = exact
        bound = burst + rate * seconds
        lines += ["", "### Rate limiting exactness (2 workers, wrk 64 connections, one global bucket)", "",
                  "| requests | admitted | refused | bound: burst + rate × seconds | within |",
                  "|---:|---:|---:|---:|---|",
                  f"| {total:,} | {admitted:,} | {refused:,} | {burst} + {rate:g} × {seconds:.2f} = {bound:,.0f} | "
                  f"{'yes' if admitted <= bound else 'NO'} |"]
    return "\n".join(lines) + "\n"


def memory(path):
    fields = ["target", "conns", "batch", "upstream_conns", "rss_before_kb", "rss_after_kb", "bytes_per_conn"]
    runs = rows(path, fields)
    per = {r["target"]: float(r["bytes_per_conn"]) for r in runs}
    lines = ["### RSS per idle keep-alive client connection", "",
             "| proxy | connections | opened at a time | idle upstream connections | RSS before MiB "
             "| RSS after MiB | bytes per idle connection | × nginx |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(runs, key=lambda r: ORDER.index(r["target"]) if r["target"] in ORDER else 99):
        ratio = per[r["target"]] / per["nginx"] if per.get("nginx") else None
        upstream = int(r["upstream_conns"])
        lines.append(f"| {r['target']} | {int(r['conns']):,} | {int(r['batch']):,} | "
                     f"{'—' if upstream < 0 else f'{upstream:,}'} | "
                     f"{int(r['rss_before_kb']) / 1024:.1f} | "
                     f"{int(r['rss_after_kb']) / 1024:.1f} | {per[r['target']]:,.0f} | "
                     f"{'—' if ratio is None else f'{ratio:.2f}'} |")
    lines.append("")
    lines.append("Connections are opened a batch at a time, every request of a batch in flight before "
                 "any response is read; each connection then stays open idle. Idle upstream connections: "
                 "the proxy's established connections to the upstream afterwards (its pool grows with the "
                 "concurrency; they count in the RSS). (VmRSS after − VmRSS before) ÷ connections.")
    return "\n".join(lines) + "\n"


def main():
    mode = sys.argv[1]
    if mode == "load":
        sys.stdout.write(load(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif mode == "callgrind":
        sys.stdout.write(callgrind(sys.argv[2]))
    elif mode == "ratelimit":
        sys.stdout.write(ratelimit(sys.argv[2]))
    elif mode == "memory":
        sys.stdout.write(memory(sys.argv[2]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
