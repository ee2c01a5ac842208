"""lptrain: train neural networks to epsilon-global optimality by linear programming.

Implements *Principled Deep Neural Network Training through Linear Programming*
(Bienstock, Munoz, Pokutta): for an architecture, a loss, a sample size D and a grid,
one data-independent polytope (Thm 3.1); every data set fixes a face of it whose LP
optimum is an epsilon-approximate global minimizer of the empirical risk (Sec. 3.3).
"""

__version__ = "0.1.0"

from .api import gap, train, train_continuous  # noqa: E402
from .arch import Architecture  # noqa: E402
from .data import Dataset, Scaling, make_dataset, read_dataset  # noqa: E402
from .face import Face  # noqa: E402
from .grid import Grid  # noqa: E402
from .network import Network  # noqa: E402
from .polytope import Polytope  # noqa: E402


def __getattr__(name):
    """The scikit-learn estimators, imported on first use (scikit-learn is optional)."""
    if name in ("LPTrainRegressor", "LPTrainClassifier"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'lptrain' has no attribute {name!r}")


def load_model(path) -> Network:
    """The trained :class:`Network` a ``--model`` file holds."""
    return Network.load(path)


__all__ = ["LPTrainClassifier", "LPTrainRegressor", "Architecture", "Dataset", "Face", "Grid", "Network", "Polytope", "Scaling",
           "gap", "load_model", "make_dataset", "read_dataset", "train", "train_continuous", "__version__"]
