"""Side-by-side nutpie runs of benchmark posteriors, measured as ANCHORS.md defines
(4 chains, 1000 warm-up + 1000 draws, target acceptance 0.8, 2 cores).

Setup: python3 -m venv /tmp/nutpie-venv && /tmp/nutpie-venv/bin/pip install nutpie==0.16.8 pymc==5.28.5
Usage: /tmp/nutpie-venv/bin/python tools/nutpie_side_by_side.py radon|eight|wells|garch|gauss100 [first_seed] [runs]
The reference data are read from ../shared/reference beside the repository.
Measured in session 12 with nutpie 0.16.8 and PyMC 5.28.5 (the anchors' versions).
"""
import json, os, sys, time
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import nutpie
from side_by_side import REF, Runs, max_rhat, min_bulk_ess, seeds

def radon():
    d = json.load(open(f"{REF}/benchmarks/radon_mn-radon_hierarchical_intercept_noncentered/data.json"))
    idx = np.array(d["county_idx"]) - 1
    with pm.Model() as m:
        alpha_raw = pm.Normal("alpha_raw", 0, 1, shape=d["J"])
        beta = pm.Normal("beta", 0, 10, shape=2)
        mu_alpha = pm.Normal("mu_alpha", 0, 10)
        sigma_alpha = pm.HalfNormal("sigma_alpha", 1)
        sigma_y = pm.HalfNormal("sigma_y", 1)
        alpha = pm.Deterministic("alpha", mu_alpha + sigma_alpha * alpha_raw)
        mu = alpha[idx] + np.array(d["log_uppm"]) * beta[0] + np.array(d["floor_measure"]) * beta[1]
        pm.Normal("y", mu, sigma_y, observed=np.array(d["log_radon"]))
    return m

def eight():
    d = json.load(open(f"{REF}/posteriordb/eight_schools-eight_schools_noncentered/data.json"))
    with pm.Model() as m:
        theta_trans = pm.Normal("theta_trans", 0, 1, shape=d["J"])
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfCauchy("tau", 5)
        theta = pm.Deterministic("theta", theta_trans * tau + mu)
        pm.Normal("y", theta, np.array(d["sigma"]), observed=np.array(d["y"]))
    return m

def wells():
    d = json.load(open(f"{REF}/benchmarks/wells_data-wells_dist100_model/data.json"))
    x = np.array(d["dist"]) / 100.0
    with pm.Model() as m:
        alpha = pm.Flat("alpha")
        beta = pm.Flat("beta", shape=1)
        pm.Bernoulli("switched", logit_p=alpha + beta[0] * x, observed=np.array(d["switched"]))
    return m

def garch():
    d = json.load(open(f"{REF}/posteriordb/garch-garch11/data.json"))
    y = np.array(d["y"]); s1 = d["sigma1"]
    import pytensor
    with pm.Model() as m:
        mu = pm.Flat("mu")
        alpha0 = pm.HalfFlat("alpha0")
        alpha1 = pm.Uniform("alpha1", 0, 1)
        beta1 = pm.Uniform("beta1", 0, 1 - alpha1)
        def step(y_prev, var_prev, mu, a0, a1, b1):
            return a0 + a1 * (y_prev - mu) ** 2 + b1 * var_prev
        var, _ = pytensor.scan(step, sequences=[pt.as_tensor(y[:-1])],
                               outputs_info=[pt.as_tensor(np.float64(s1 * s1))],
                               non_sequences=[mu, alpha0, alpha1, beta1])
        sigma = pt.concatenate([pt.as_tensor([np.float64(s1)]), pt.sqrt(var)])
        pm.Normal("y", mu, sigma, observed=y)
    return m

def gauss100():
    d = json.load(open(f"{REF}/benchmarks/gauss100/data.json"))
    with pm.Model() as m:
        pm.MvNormal("x", mu=np.array(d["mu"]), chol=np.array(d["L"]))
    return m

MODELS = {"gauss100": gauss100, "radon": radon, "eight": eight, "wells": wells, "garch": garch}

def run(name, seeds):
    compiled = nutpie.compile_pymc_model(MODELS[name]())
    # warm up the compiled code once
    nutpie.sample(compiled, draws=50, tune=50, chains=1, cores=1, seed=999, progress_bar=False)
    runs = Runs(name)
    for seed in seeds:
        t = time.perf_counter()
        tr = nutpie.sample(compiled, draws=1000, tune=1000, chains=4, cores=2, seed=seed, progress_bar=False)
        wall = time.perf_counter() - t
        grads = int(tr.sample_stats["n_steps"].sum()) + int(tr.warmup_sample_stats["n_steps"].sum())
        div = int(tr.sample_stats["diverging"].sum())
        runs.add(seed, wall, grads, min_bulk_ess(tr.posterior), div, max_rhat(tr.posterior))
    runs.median()

if __name__ == "__main__":
    run(sys.argv[1], seeds(sys.argv, 2))
