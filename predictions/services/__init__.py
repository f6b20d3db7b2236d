"""Writes of the prediction engine, one module per job.

`predictions.ml` does the numerical work on frames; these services feed it from the selectors and
store what it returns:

- `versions`: a model version's life: create, claim, train, fail, activate;
- `artifacts`: its fitted model, stored in the database and loaded once per process;
- `enqueue`: what goes to the Celery queues (training, retraining, the sweep, refreshes);
- `evaluation`: scoring a version beside the market, and walk-forward backtests;
- `holdout`: the held-out versions the demo and the performance page show;
- `refresh`: the stored predictions of races.
"""
