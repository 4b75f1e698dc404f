"""Markdown tables of the stored benchmark records (results/bench/*.json), one renderer per kind of record, and of
gpu_check's JSON lines.
Nothing is measured here and nothing imports torch: ``benchmarks.summarise`` writes docs/performance.md from
these, and each benchmark script prints its own record with the same renderer."""

from __future__ import annotations

from pathlib import PurePath

from tabulate import tabulate


def _fmt(value, spec: str = ".3g", missing: str = "") -> str:
    return missing if value is None else format(value, spec)


def heading(name: str, record: dict) -> str:
    """One line naming the record's file, the device it was measured on (or computed on), its git commit,
    its date and its torch."""
    prov = record.get("provenance", {})
    device = record.get("device") or {}
    load = device.get("load_average_1_5_15min")
    about = device.get("name") or f"computed on {prov.get('device', 'an unnamed device')}, nothing measured"
    about += f", load average {load[0]} at the start" if load else ""
    return (f"`{name}`: {about}; git {short_commit(prov.get('git_commit'))}, {str(prov.get('time_utc'))[:10]}, "
            f"torch {prov.get('versions', {}).get('torch')}")


def short_commit(commit: str | None) -> str:
    """A git commit as 12 hex digits, '+dirty' kept (the working tree had changes)."""
    text = str(commit)
    return text[:12] + ("+dirty" if text.endswith("+dirty") else "")


def train_table(record: dict) -> str:
    """bench_train: per model and image size, seconds per generator step (median), runs per hour, the ratio to
    the baseline and the FLOP lower bound of the step at the device's ceiling."""
    rows, skipped = [], {}
    for entry in record["results"]:
        for name, v in entry["variants"].items():
            if "seconds_per_step" not in v:
                skipped[name] = v.get("skipped") or v.get("error")
                continue
            bound = ", ".join(f"{s:.3g} s ({k})" for k, s in v["lower_bound_seconds_per_step"].items())
            share = ", ".join(f"{f:.0%}" for f in v["fraction_of_ceiling"].values())
            rows.append([entry["model"], entry["image_size"], name, v["seeds"], f"{v['seconds_per_step']:.3g}",
                         f"{v['runs_per_hour']:.3g}", f"{v.get('runs_per_hour_vs_baseline', 1.0):.2f}×",
                         f"{bound}; achieved {share} of it"])
    table = tabulate(rows, headers=["model", "px", "variant", "seeds", "s / G step", "runs / h",
                                    "vs baseline", "FLOP lower bound of the step"], tablefmt="github")
    batch = record["results"][0]["batch_size"] if record["results"] else "?"
    notes = [f"Batch {batch}; runs / h at the paper's {record['steps_per_run']:,} generator steps per run; "
             f"ceiling: {record['ceiling']['source']}."]
    notes += [f"Not measured: {name} ({why})." for name, why in skipped.items()]
    return table + "\n\n" + " ".join(notes)


def features_table(record: dict) -> str:
    """bench_features: images/s of each pipeline, against pytorch-fid's, and what it does to FID."""
    rows = []
    for name, v in record["results"].items():
        if "images_per_s" not in v:
            rows.append([name, "", "", "", "", v.get("skipped") or v.get("error")])
            continue
        rows.append([name, v["precision"], v["batch_size"], f"{v['images_per_s']:.3g}",
                     _fmt(v.get("speed_vs_pytorch_fid"), ".2f") + "×", _fmt(v.get("fid_minus_fp32_fid"), "+.4f")])
    n = record["images_per_set"]
    return tabulate(rows, headers=["variant", "precision", "batch", "images / s", "vs pytorch-fid",
                                   f"FID − fp32 FID ({n} vs {n} {record['data']})"], tablefmt="github")


def metrics_table(record: dict) -> str:
    """bench_metrics and bench_prdc: the 5-NN, precision/recall/density/coverage, the Fréchet distance (against
    pytorch-fid's and torch-fidelity's formulas where measured) and feature extraction per space."""
    rows = []
    knn = record.get("knn")
    if knn:
        rows.append([f"5-NN, {knn['n_per_set']:,} + {knn['n_per_set']:,} × {knn['dims']}-d (float64)",
                     f"{knn['seconds']:.3g} s"])
    prdc = record.get("prdc")
    if prdc:
        rows.append([f"precision, recall, density, coverage, {prdc['n_per_set']:,} + {prdc['n_per_set']:,} × "
                     f"{prdc['dims']}-d (float64)", f"{prdc['seconds']:.3g} s ({prdc['process_cpu_seconds']:.3g} s CPU; "
                     f"peak RSS {prdc['process_peak_rss_mib']:.0f} MiB)"])
    fd = record.get("frechet_distance")
    if fd:
        rows.append([f"Fréchet distance, 2 × {fd['n_per_set']:,} × {fd['dims']}-d ({fd['where']})",
                     f"{fd['seconds']:.3g} s"])
        for key, label in (("pytorch_fid", "pytorch-fid's (SciPy sqrtm)"),
                           ("torch_fidelity_formula", "torch-fidelity's formula")):
            if key in fd:
                rows.append([f"Fréchet distance, {label}, same statistics", f"{fd[key]['seconds']:.3g} s"])
    for space, v in (record.get("feature_extraction") or {}).items():
        rows.append([f"features, {space}", f"{v['images_per_s']:.4g} images/s" if "images_per_s" in v
                     else f"skipped: {str(v.get('skipped')).split('. ')[0]}"])
    return tabulate(rows, headers=["what", "time"], tablefmt="github")


def loop_table(record: dict) -> str:
    """bench_loop_cpu: seconds per generator step of the reference revision and the working tree per case,
    their ratio (reference / working: >= the threshold means not slower) and the rounds' spread."""
    ref = record["reference"]["revision"]
    rows = []
    for name, f in record["results"].items():
        spread = f"{min(f['round_ratios']):.3f}–{max(f['round_ratios']):.3f}" if f["round_ratios"] else "-"
        verdict = {True: "ok", False: f"SLOWER (< {record['threshold']})", None: "not measured"}[f["ok"]]
        rows.append([name, _fmt(f["reference"]["s_per_step_median"], ".4g"),
                     _fmt(f["working"]["s_per_step_median"], ".4g"), _fmt(f["ratio"], ".3f"),
                     _fmt(f["ratio_best"], ".3f"), spread, verdict])
    how = "both trees at once, a core each" if record.get("concurrent") else "one tree after the other"
    return (tabulate(rows, headers=["case", f"{ref} s / G step", "working s / G step", "ratio", "best rounds' ratio",
                                    "round ratios", "verdict"], tablefmt="github")
            + f"\n\n{record['rounds']} rounds, {record['threads']} thread(s) each, {how}.")


def job_resources_table(record: dict) -> str:
    """bench_job_resources: peak RSS and wall seconds of real hmogbench jobs."""
    rows = [[r["job"], r["name"], f"{r['peak_rss_mb']:.0f}", f"{r['wall_s']:.1f}", r.get("s_per_step", ""),
             r.get("startup_s", "")] for r in record["rows"]]
    table = tabulate(rows, headers=["job", "name", "peak RSS MB", "wall s", "s / step", "start-up s"],
                     tablefmt="github")
    return table + "".join(f"\n\nSkipped: {why}" for why in record.get("skipped", []))


def evaluate_measured_table(m: dict) -> str:
    """bench_evaluate, part 1: both paths, and the evaluate process's parts."""
    chain, ev, parts = m["old_chain"], m["evaluate"], m["evaluate"]["parts_from_log"]
    n = len(m["seeds"])
    lines = [f"Measured: {m['set']} {m['model']}, {n} seeds x {len(m['spaces'])} spaces "
             f"({', '.join(m['spaces'])}) x {m['count']} images, one process after the other.", "",
             "| path | processes | wall s |", "|---|---|---|",
             f"| old chain (sample, features, score --precomputed) | {chain['processes']} | {chain['wall_s']:.1f} |",
             f"| hmogbench evaluate | {ev['processes']} | {ev['wall_s']:.1f} |", "",
             "| part of the evaluate process | s |", "|---|---|",
             f"| start-up (hmogbench --version / import hmogbench.evaluation.job) | "
             f"{m['startup']['hmogbench_version_s']:.2f} / {m['startup']['import_evaluation_s']:.2f} |",
             f"| loading: generator (one) / Inception (one) | {m['loading']['generator_s']:.2f} / "
             f"{m['loading']['inception_s']:.2f} ({m['loading']['inception_space']}) |",
             f"| sampling ({n} seeds) | {parts['sampling_s']:.1f} |"]
    lines += [f"| features {s} | {v:.1f} |" for s, v in parts["features_s"].items()]
    lines += [f"| scoring {s} (FD, KID, 5-NN; worker thread, overlapped) | {v:.1f} |"
              for s, v in parts["scoring_s"].items()]
    check = m["check"]
    lines += ["", f"Same numbers: {check['same_numbers']} ({check['compared']} figures, {check['identical']} "
                  f"identical, max relative difference {check['max_relative_difference']:.2e})."]
    return "\n".join(lines)


def evaluate_estimate_table(e: dict) -> str:
    """bench_evaluate, part 2: the parts per image size, their sources, the totals."""
    sizes = e["sizes"]
    lines = [f"Estimate (not a measurement) on {e['gpu']}: {e['what']}.", "",
             "| part | " + " | ".join(f"{s['image_size']}x{s['image_size']} s" for s in sizes) + " | source |",
             "|---|" + "---|" * len(sizes) + "---|"]
    for part in sizes[0]["parts_s"]:
        lines.append(f"| {part} | " + " | ".join(f"{s['parts_s'][part]:.2f}" for s in sizes)
                     + f" | {e['sources'][part]} |")
    lines.append("| **total, serial** | " + " | ".join(f"**{s['total_serial_s']:.1f}**" for s in sizes) + " | sum |")
    lines.append("| **total, scoring overlapped** | " + " | ".join(f"**{s['total_overlapped_s']:.1f}**" for s in sizes)
                 + " | worker thread |")
    lines += ["", *[f"Left out: {x}" for x in e["metrics_measured"]["missing"]],
              *[f"Not included: {x}" for x in e["not_included"]]]
    return "\n".join(lines)


def evaluate_table(record: dict) -> str:
    """bench_evaluate: part 1 (measured) and part 2 (the estimate)."""
    return evaluate_measured_table(record["measured"]) + "\n\n" + evaluate_estimate_table(record["estimate"])


def grid_table(record: dict) -> str:
    """estimate_grid: GPU-hours of the paper grid per precision and assumed share of the peak, and the figure
    from measured throughput where the record has one."""
    est, grid, m = record["flop_estimate"], record["grid"], record.get("measured_estimate")
    lines = [f"The grid: {grid['configurations']} configurations × {grid['seeds']} seeds = {grid['runs']} trainings; "
             f"training {record['train_flops']:.3g} FLOPs, evaluation {record['eval_flops']:.3g} FLOPs.", "",
             f"| precision | peaks (training / evaluation) | share of the {est['device']} peaks (assumed) | "
             "training GPU-h | evaluation GPU-h | total GPU-h |", "|---|---|---|---|---|---|"]
    for e in (e for e in est["estimates"] if e["share"] == 1 or not m):  # with measured rates: the bounds alone
        p = est["precisions"][e["precision"]]
        label = "100% (lower bound)" if e["share"] == 1 else f"{e['share']:.0%}"
        headline = " (headline)" if e["precision"] == est["headline"] else ""
        lines.append(f"| {e['precision']}{headline} | {p['training']} / {p['evaluation']} | {label} | "
                     f"{e['train_gpu_hours']:.1f} | {e['eval_gpu_hours']:.2f} | {e['total_gpu_hours']:.1f} |")
    order = list(dict.fromkeys(e["precision"] for e in est["estimates"]))  # the record's keys are sorted
    lines += ["", *[f"{name}: {est['precisions'][name]['note']}." for name in order]]
    return "\n".join(lines + (measured_grid_lines(m, order) if m else []))


def measured_grid_lines(m: dict, order: list[str]) -> list[str]:
    """estimate_grid's hours at measured rates, one row per training precision in ``order`` (or what it did not
    measure)."""
    lines = ["", f"From the rates measured on {m['device']} (`{m['source']}`; each configuration at the FLOP/s of "
                 f"its nearest measured case), evaluation {m['eval_hours']:,.2f} h ({m['eval_source']}):", "",
             "| training precision | training h | total h | cases (configurations each timed) |", "|---|---|---|---|"]
    for name in order:
        h = m["precisions"][name]
        if "missing" in h:
            lines.append(f"| {name} | not measured: {', '.join(h['missing'])} | | |")
            continue
        cases = ", ".join(f"{label} ({n})" for label, n in h["configurations_per_case"].items())
        lines.append(f"| {name} | {h['train_hours']:,.1f} | {h['total_hours']:,.1f} | {cases} |")
    return lines


def gpu_check_result(line: dict) -> str:
    """One gpu_check line as the summary table's 'result' cell."""
    f = line.get("figures") or {}
    if line.get("skipped"):
        return f"skipped: {line['skipped']}"
    if not line.get("ok"):
        err = line.get("error") or {}
        return f"ERROR {err.get('type')}: {str(err.get('message'))[:70]}"
    if line["name"].endswith(" done"):
        return f"done (expected {f.get('expected_s')} s)"
    if "sync_debug_mode" in f:
        return f"host syncs: {f['host_syncs']} (steps {f['checked_steps']}, sync debug mode: {f['sync_debug_mode']})"
    if "seconds_per_step" in f:
        result = (f"{f.get('generator_steps_per_s')} steps/s, {f.get('runs_per_hour')} runs/h, "
                  f"mem {f.get('peak_gpu_mem_gib')} GiB")
        result += f", compile {f['compile_s_first_step']} s" if "compile_s_first_step" in f else ""
        return result + (f", wall {f['wall_s_all']} s" if "wall_s_all" in f else "")
    if "images_per_s" in f:
        diff = f" (vs fp32: {f['rel_diff_vs_fp32']:.2g} relative)" if "rel_diff_vs_fp32" in f else ""
        return f"{f['images_per_s']} img/s ({f.get('effective_precision')}){diff}"
    seconds = f.get("seconds", f.get("frechet_distance_s", f.get("seconds_incl_statistics")))
    return f"{seconds} s" if seconds is not None else f"{line.get('seconds')} s"


def gpu_check_summary_table(lines: list[dict]) -> str:
    """gpu_check: one row per line (part, measurement, result, seconds)."""
    rows = [(line["part"], line["name"], gpu_check_result(line), line.get("seconds")) for line in lines]
    return tabulate(rows, headers=("part", "measurement", "result", "s"), tablefmt="github")


def _shares(f: dict | None) -> str:
    shares = (f or {}).get("share_of_peak")
    return "n/a" if not shares else f"{shares['fp32']:.1%} / {shares['tf32']:.2%}"


def gpu_check_cases_table(lines: list[dict]) -> str:
    """gpu_check: per case (model at image size, training precision), the eager run's generator steps/s, the
    batched group's seed-steps/s, batched / eager, and the share of the fp32 / TF32 peaks each reached (the FLOP
    lower bound over the measured time)."""
    cases: dict[tuple, dict] = {}
    for f in (line.get("figures") or {} for line in lines if line.get("ok")):
        if f.get("mode") in ("eager", "vmap") and not f.get("compile_mode") and "seconds_per_step" in f:
            cases.setdefault((f"{f['model']}@{f['image_size']}", f["precision"]), {})[f["mode"]] = f
    if not cases:
        return "No training case measured (eager or batched)."
    rows = []
    for (case, precision), m in cases.items():
        eager, batched = m.get("eager"), m.get("vmap")
        ratio = batched["seed_steps_per_s"] / eager["generator_steps_per_s"] if eager and batched else None
        rows.append((case, precision, _fmt(eager and eager["generator_steps_per_s"]),
                     _fmt(batched and batched["seed_steps_per_s"]) + (f" (x{batched['seeds']})" if batched else ""),
                     _fmt(ratio, ".2f"), _shares(eager), _shares(batched)))
    return tabulate(rows, tablefmt="github", headers=(
        "case", "precision", "eager steps/s", "batched seed-steps/s", "batched ÷ eager",
        "eager: share of fp32 / TF32 peak", "batched: share of fp32 / TF32 peak"))


RENDERERS = {"train": train_table, "features": features_table, "metrics": metrics_table, "knn": metrics_table,
             "loop": loop_table, "job_resources": job_resources_table, "evaluate": evaluate_table,
             "grid_estimate": grid_table}


def kind_of(path: str) -> str:
    """The kind of record a results/bench file holds, from its name: the longest ``RENDERERS`` key it starts with."""
    name = PurePath(path).name
    kinds = sorted((k for k in RENDERERS if name.startswith(k + "_") or name == f"{k}.json"), key=len)
    if not kinds:
        raise ValueError(f"{path}: expected a benchmark record named {{{','.join(RENDERERS)}}}_*.json")
    return kinds[-1]


def table(path: str, record: dict) -> str:
    """The heading and table of the record stored at ``path`` (its file name says its kind)."""
    return f"{heading(path, record)}\n\n{RENDERERS[kind_of(path)](record)}\n"
