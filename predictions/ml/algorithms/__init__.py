"""Win-probability algorithms behind one small interface, registered by name in `ALGORITHMS`.

Each algorithm learns from `features` (float64, NaN allowed, one row per runner; never odds) and
the runner `frame` (see `frame.py`) whose rows line up with it, and predicts win probabilities
that sum to 1 within each race. Withdrawn horses (`non_runner`) get probability 0.

- `market` (`market.py`): the odds' implied probabilities, nothing learned.
- `logit` (`logit.py`): a conditional logit (a softmax within the race) on standardised features.
- `lightgbm`, `xgboost` (`boosted.py`): gradient-boosted win classifiers whose scores are turned
  into race probabilities by a temperature fitted on out-of-fold scores (p proportional to
  exp(beta * score)); the number of trees is chosen on the same out-of-fold scores.
- `benter` (`benter.py`): Benter's second stage, p proportional to p_fund**a * p_market**b, with
  a and b fitted on cross-fitted (out-of-sample) first-stage probabilities.
- `residual` (`residual.py`): LightGBM that starts from the market's log-probabilities (a fixed
  offset) and learns a correction under a softmax within the race, early-stopped on the last
  training season.
- `softmax` (`softmax.py`): the same machinery on the fundamental features alone, with no
  offset, learnt on the first places of each race (a Plackett-Luce loss).

`race_softmax.py` holds what `residual` and `softmax` share (the race's softmax loss, early
stopping on the last training season, the tree-shape search).

`base.py` holds the interface, `estimation.py` the date-ordered folds and the conditional logit
they share. Instances pickle (joblib) with everything they need to predict. Model versions
pickled when this package was one module name their classes `predictions.ml.algorithms.<Class>`:
the names below keep those artifacts loading.
"""

from predictions.ml.algorithms.base import Algorithm
from predictions.ml.algorithms.benter import ALGORITHMS, Benter
from predictions.ml.algorithms.boosted import LightGBM, XGBoost
from predictions.ml.algorithms.estimation import fit_conditional_logit, time_folds
from predictions.ml.algorithms.logit import ConditionalLogit
from predictions.ml.algorithms.market import Market
from predictions.ml.algorithms.residual import Residual
from predictions.ml.algorithms.softmax import Softmax

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Benter",
    "ConditionalLogit",
    "LightGBM",
    "Market",
    "Residual",
    "Softmax",
    "XGBoost",
    "fit_conditional_logit",
    "time_folds",
]
