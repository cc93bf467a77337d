"""Side-by-side NumPyro runs of benchmark posteriors as ANCHORS.md measures them
(float64, JAX on CPU, 4 host devices on 2 cores, parallel chains; 1000 warm-up + 1000
draws, target acceptance 0.8). The first run compiles and is not timed.

Setup: /tmp/nutpie-venv/bin/pip install numpyro==0.22.0 "jax[cpu]"
Usage: /tmp/nutpie-venv/bin/python tools/numpyro_side_by_side.py garch|wells|diamonds [first_seed] [runs]
"""
import os, json, logging, re, sys, time
import numpyro
numpyro.set_host_device_count(4)
numpyro.enable_x64()
import jax, jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS
import arviz as az
from side_by_side import REF, Runs, min_bulk_ess, seeds

def garch_data():
    d = json.load(open(f"{REF}/posteriordb/garch-garch11/data.json"))
    return dict(y=jnp.array(d["y"]), sigma1=d["sigma1"])

def garch(y, sigma1):
    mu = numpyro.sample("mu", dist.ImproperUniform(dist.constraints.real, (), ()))
    alpha0 = numpyro.sample("alpha0", dist.ImproperUniform(dist.constraints.positive, (), ()))
    alpha1 = numpyro.sample("alpha1", dist.Uniform(0, 1))
    beta1 = numpyro.sample("beta1", dist.Uniform(0, 1 - alpha1))
    def step(var, y_prev):
        v = alpha0 + alpha1 * (y_prev - mu) ** 2 + beta1 * var
        return v, v
    _, var = jax.lax.scan(step, sigma1 ** 2, y[:-1])
    sigma = jnp.concatenate([jnp.array([sigma1]), jnp.sqrt(var)])
    numpyro.sample("y", dist.Normal(mu, sigma), obs=y)

def wells_data():
    d = json.load(open(f"{REF}/benchmarks/wells_data-wells_dist100_model/data.json"))
    return dict(x=jnp.array(d["dist"]) / 100.0, switched=jnp.array(d["switched"]))

def wells(x, switched):
    alpha = numpyro.sample("alpha", dist.ImproperUniform(dist.constraints.real, (), ()))
    beta = numpyro.sample("beta", dist.ImproperUniform(dist.constraints.real, (), (1,)))
    numpyro.sample("switched", dist.BernoulliLogits(alpha + beta[0] * x), obs=switched)

def diamonds_data():
    d = json.load(open(f"{REF}/posteriordb/diamonds-diamonds/data.json"))
    X = np.array(d["X"])[:, 1:]
    means = X.mean(axis=0)
    return dict(Xc=jnp.array(X - means), Y=jnp.array(d["Y"]))

def diamonds(Xc, Y):
    b = numpyro.sample("b", dist.Normal(0, 1).expand([Xc.shape[1]]))
    intercept = numpyro.sample("Intercept", dist.StudentT(3, 8, 10))
    sigma = numpyro.sample("sigma", dist.TruncatedDistribution(dist.StudentT(3, 0, 10), low=0.0))
    numpyro.sample("Y", dist.Normal(intercept + Xc @ b, sigma), obs=Y)

MODELS = {"garch": (garch, garch_data), "wells": (wells, wells_data), "diamonds": (diamonds, diamonds_data)}

class CompileTimer(logging.Handler):
    """Sums the tracing, lowering and XLA compilation times JAX logs (with
    `jax_log_compiles`): NumPyro's parallel chains compile again on every `run`, and
    the anchors time sampling with the model already compiled."""

    PATTERN = re.compile(r"^Finished (tracing|jaxpr to MLIR|XLA compilation).* in ([0-9.eE+-]+) sec")

    def __init__(self):
        super().__init__()
        self.seconds = 0.0

    def emit(self, record):
        m = self.PATTERN.match(record.getMessage())
        if m:
            self.seconds += float(m.group(2))


def run(name, seeds):
    timer = CompileTimer()
    logging.getLogger("jax").addHandler(timer)
    logging.getLogger("jax").propagate = False
    jax.config.update("jax_log_compiles", True)
    model, data = MODELS[name]
    data = data()
    # One MCMC object for every run, so that its compiled warm-up and sampling
    # functions are reused (a new object compiles again).
    mcmc = MCMC(NUTS(model, target_accept_prob=0.8, max_tree_depth=10), num_warmup=1000,
                num_samples=1000, num_chains=4, chain_method="parallel", progress_bar=False,
                jit_model_args=True)
    def once(seed):
        key = jax.random.PRNGKey(seed)
        timer.seconds = 0.0
        t = time.perf_counter()
        mcmc.run(key, **data, extra_fields=("num_steps", "diverging"))
        jax.block_until_ready(mcmc.get_samples())
        wall = time.perf_counter() - t - timer.seconds
        ex = mcmc.get_extra_fields()
        # Leapfrog steps of the draws only: warm-up's are not kept by a single `run`
        # (splitting it into `warmup` and `run` recompiles on every call).
        grads = int(np.asarray(ex["num_steps"]).sum())
        div = int(np.asarray(ex["diverging"]).sum())
        post = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
        return wall, grads, min_bulk_ess(az.convert_to_dataset(post)), div
    once(0)  # compile
    runs = Runs(name, grads="draw-phase grads")
    for seed in seeds:
        runs.add(seed, *once(seed))
    runs.median()

if __name__ == "__main__":
    run(sys.argv[1], seeds(sys.argv, 2))
