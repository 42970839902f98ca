"""Comparing variants with statistics: bootstrap intervals, paired permutation tests on the
same messages, win rates, Holm-corrected verdicts that say when nothing is significant."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compare", "metrics_of"]

_BUILTIN = {"latency_ms": False, "cost": False}


def metrics_of(results: pd.DataFrame) -> dict[str, bool]:
    """Every comparable metric of a results table and whether higher is better."""
    directions = dict(results.attrs.get("scorers", {}))
    metrics = {
        f"score_{name}": better for name, better in directions.items() if f"score_{name}" in results
    }
    for column in results.columns:  # score columns of a table without attrs
        if column.startswith("score_") and column != "score_errors" and column not in metrics:
            metrics[column] = True
    metrics.update({k: v for k, v in _BUILTIN.items() if k in results})
    return metrics


def _label(column: str) -> str:
    return column[6:] if column.startswith("score_") else column


def _bootstrap_ci(
    values: np.ndarray, rng: np.random.Generator, n_boot: int, alpha: float
) -> tuple[float, float]:
    if len(values) < 2:
        return (np.nan, np.nan)
    samples = rng.choice(values, size=(n_boot, len(values)), replace=True).mean(axis=1)
    return (float(np.quantile(samples, alpha / 2)), float(np.quantile(samples, 1 - alpha / 2)))


def _permutation_p(diffs: np.ndarray, rng: np.random.Generator, n_perm: int) -> float:
    """Two-sided paired test: flip the sign of each difference at random."""
    if len(diffs) == 0 or not np.any(diffs):
        return 1.0
    observed = abs(diffs.mean())
    signs = rng.choice((-1.0, 1.0), size=(n_perm, len(diffs)))
    null = np.abs((signs * diffs).mean(axis=1))
    return float((np.sum(null >= observed - 1e-12) + 1) / (n_perm + 1))


def _holm(p_values: dict[str, float]) -> dict[str, float]:
    ordered = sorted(p_values.items(), key=lambda kv: kv[1])
    adjusted, running = {}, 0.0
    for rank, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - rank) * p))
        adjusted[key] = running
    return adjusted


def compare(
    results: pd.DataFrame,
    baseline: str | None = None,
    metric: str | None = None,
    *,
    alpha: float = 0.05,
    n_boot: int = 2_000,
    n_perm: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per variant: its calls and failed calls, the mean of every metric over the
    calls that got a reply, and for ``metric`` (default: the first score) a bootstrap
    interval, the paired difference against ``baseline`` on the
    messages both answered, its interval, a permutation-test p-value (Holm-corrected across
    variants), the win rate, and a verdict.

    >>> gl.lab.compare(results, baseline=variants[0].id)        # doctest: +SKIP
    """
    metrics = metrics_of(results)
    if not metrics:
        raise ValueError("the results have no metric to compare")
    metric = metric or next(iter(metrics))
    if not metric.startswith("score_") and metric not in results:
        metric = f"score_{metric}"
    if metric not in metrics:
        raise KeyError(f"no metric {metric!r}; metrics: {list(metrics)}")
    higher = metrics[metric]
    ids = list(dict.fromkeys(results["variant_id"]))
    baseline = baseline or ids[0]
    if baseline not in ids:
        raise KeyError(f"baseline {baseline!r} is not a variant of these results")
    rng = np.random.default_rng(seed)
    names = results.drop_duplicates("variant_id").set_index("variant_id")["variant"]
    answered = results[results["error"].isna()]  # a failed call's latency or cost is no score
    wide = answered.pivot_table(
        index="message_id", columns="variant_id", values=metric, aggfunc="mean"
    )
    rows, p_values = {}, {}
    for vid in ids:
        every = results[results["variant_id"] == vid]
        part = answered[answered["variant_id"] == vid]
        values = part[metric].dropna().to_numpy(dtype=float)
        low, high = _bootstrap_ci(values, rng, n_boot, alpha)
        row = {
            "variant": names[vid],
            "n": len(every),
            "errors": int(every["error"].notna().sum()),
            _label(metric): float(values.mean()) if len(values) else np.nan,
            "ci_low": low,
            "ci_high": high,
        }
        for other in metrics:
            if other != metric:
                row[f"mean_{_label(other)}"] = float(part[other].mean())
        if vid != baseline and vid in wide and baseline in wide:
            pair = wide[[vid, baseline]].dropna()
            diffs = (pair[vid] - pair[baseline]).to_numpy(dtype=float)
            better = diffs > 0 if higher else diffs < 0
            ties = diffs == 0
            d_low, d_high = _bootstrap_ci(diffs, rng, n_boot, alpha)
            row.update(
                paired_n=len(diffs),
                delta=float(diffs.mean()) if len(diffs) else np.nan,
                delta_ci_low=d_low,
                delta_ci_high=d_high,
                win_rate=float((better.sum() + 0.5 * ties.sum()) / len(diffs))
                if len(diffs)
                else np.nan,
            )
            p_values[vid] = _permutation_p(diffs, rng, n_perm)
            row["p_value"] = p_values[vid]
        rows[vid] = row
    adjusted = _holm(p_values)
    for vid, row in rows.items():
        if vid == baseline:
            row["verdict"] = "baseline"
            continue
        p = adjusted.get(vid, 1.0)
        row["p_holm"] = p
        if row.get("paired_n", 0) < 5:
            row["verdict"] = "too few paired messages to tell"
        elif p < alpha:
            gain = row["delta"] > 0 if higher else row["delta"] < 0
            row["verdict"] = f"{'better' if gain else 'worse'} than baseline (p={p:.3g})"
        else:
            row["verdict"] = f"no significant difference (p={p:.2g})"
    out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant_id")
    first = [
        "variant",
        "n",
        "errors",
        _label(metric),
        "ci_low",
        "ci_high",
        "paired_n",
        "delta",
        "delta_ci_low",
        "delta_ci_high",
        "win_rate",
        "p_value",
        "p_holm",
        "verdict",
    ]
    out = out.reindex(columns=[*first, *(c for c in out if c not in first)])  # every column,
    # even when no variant could be paired with the baseline
    out.attrs = {"metric": metric, "higher_is_better": higher, "baseline": baseline, "alpha": alpha}
    return out
