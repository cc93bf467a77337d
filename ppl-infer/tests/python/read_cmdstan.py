"""Reads CmdStan CSV files with ArviZ 0.x's `from_cmdstan` and prints what it read as JSON.

Used by ppl-infer/tests/arviz_roundtrip.rs:

    python read_cmdstan.py [--save-warmup] [--posterior-predictive=NAME ...]
                           [--log-likelihood=NAME:COLUMN ... [--compare-with=FILE ...]]
                           [--prior=FILE ... [--prior-predictive=NAME ...]] FILE...

(the FILEs are the posterior; ArviZ 0.x cannot read a prior without one)

prints one JSON object on stdout:

    {
      "arviz_version": "0.x.y",
      "groups": ["posterior", "sample_stats", ...],
      "posterior": {name: {"shape": [chains, draws, ...], "values": nested lists}},
      "sample_stats": {...},
      "warmup_posterior": {...},        # with --save-warmup, when ArviZ found warm-up rows
      "warmup_sample_stats": {...},
      "posterior_predictive": {...},    # the columns named by --posterior-predictive
      "warmup_posterior_predictive": {...},
      "log_likelihood": {...},          # NAME read from the columns COLUMN
      "loo": {"elpd_loo": …, "se": …, "p_loo": …, "loo_i": […], "pareto_k": […],
              "good_k": …}             # arviz.loo(pointwise=True), with a log-likelihood
      "waic": {"elpd_waic": …, "se": …, "p_waic": …, "warning": …, "waic_i": […]}
      "compare": {"first"|"second": {"rank": …, "elpd_loo": …, "p_loo": …, "elpd_diff": …,
                  "weight": …, "se": …, "dse": …, "warning": …}}
                                        # arviz.compare(ic="loo", method="stacking") of
                                        # the FILEs and the --compare-with files
      "prior": {...}, "prior_predictive": {...},  # with --prior
      "attrs": {key: [per-chain value, ...]}   # the configuration ArviZ parsed
    }

Non-finite floats are written as the strings "nan", "inf" and "-inf" (JSON has no such
numbers); booleans and integers keep their types.
"""

import json
import math
import sys
import warnings

import arviz
import numpy as np


def encode(value):
    """A JSON-ready version of a numpy scalar or nested list element."""
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def quietly(function, *args, **kwargs):
    """Calls an ArviZ function with its warnings silenced (its result says as much)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def group(dataset):
    """Every variable of an xarray dataset: shape (chain, draw, ...) and values."""
    out = {}
    for name, array in dataset.data_vars.items():
        values = np.asarray(array.values)
        out[name] = {
            "shape": list(values.shape),
            "dtype": str(values.dtype),
            "values": encode(values.tolist()),
        }
    return out


def main(argv):
    save_warmup = "--save-warmup" in argv

    def names(prefix):
        return [a[len(prefix):] for a in argv if a.startswith(prefix)] or None

    files = [a for a in argv if not a.startswith("--")]
    if not files:
        sys.exit(__doc__)
    log_likelihood = dict(n.split(":", 1) for n in names("--log-likelihood=") or [])
    idata = arviz.from_cmdstan(
        posterior=files,
        posterior_predictive=names("--posterior-predictive="),
        log_likelihood=log_likelihood or None,
        prior=names("--prior="),
        prior_predictive=names("--prior-predictive="),
        save_warmup=save_warmup,
    )
    result = {
        "arviz_version": arviz.__version__,
        "groups": list(idata.groups()),
    }
    for name in (
        "posterior",
        "sample_stats",
        "warmup_posterior",
        "warmup_sample_stats",
        "posterior_predictive",
        "warmup_posterior_predictive",
        "log_likelihood",
        "prior",
        "prior_predictive",
    ):
        if name in idata.groups():
            result[name] = group(idata[name])
    if "sample_stats" in idata.groups() and "energy" in idata.sample_stats:
        result["bfmi"] = encode(np.asarray(arviz.bfmi(idata)).ravel().tolist())
    if "log_likelihood" in idata.groups():
        loo = quietly(arviz.loo, idata, pointwise=True)
        result["loo"] = {
            "elpd_loo": float(loo["elpd_loo"]),
            "se": float(loo["se"]),
            "p_loo": float(loo["p_loo"]),
            "good_k": float(loo["good_k"]),
            "loo_i": encode(np.asarray(loo["loo_i"]).ravel().tolist()),
            "pareto_k": encode(np.asarray(loo["pareto_k"]).ravel().tolist()),
        }
        waic = quietly(arviz.waic, idata, pointwise=True)
        result["waic"] = {
            "elpd_waic": float(waic["elpd_waic"]),
            "se": float(waic["se"]),
            "p_waic": float(waic["p_waic"]),
            "warning": bool(waic["warning"]),
            "waic_i": encode(np.asarray(waic["waic_i"]).ravel().tolist()),
        }
    second = names("--compare-with=")
    if second:
        other = arviz.from_cmdstan(posterior=second, log_likelihood=log_likelihood or None)
        table = quietly(
            arviz.compare, {"first": idata, "second": other}, ic="loo", method="stacking"
        )
        result["compare"] = {
            name: {
                column: encode(row[column].item() if hasattr(row[column], "item") else row[column])
                for column in ("rank", "elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse", "warning")
            }
            for name, row in table.iterrows()
        }
    attrs = {}
    for key, value in idata.posterior.attrs.items():
        if isinstance(value, (list, tuple)):
            attrs[key] = [str(v) for v in value]
        else:
            attrs[key] = str(value)
    result["attrs"] = attrs
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
