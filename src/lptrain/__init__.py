"""lptrain: train neural networks to epsilon-global optimality by linear programming.

Implements *Principled Deep Neural Network Training through Linear Programming*
(Bienstock, Munoz, Pokutta): for an architecture, a loss, a sample size D and a grid,
one data-independent polytope (Thm 3.1); every data set fixes a face of it whose LP
optimum is an epsilon-approximate global minimizer of the empirical risk (Sec. 3.3).
"""

from .api import gap, train, train_continuous
from .arch import Architecture
from .data import Dataset, Scaling, make_dataset, read_dataset
from .face import Face
from .grid import Grid
from .network import Network
from .polytope import Polytope

__version__ = "0.1.0"


def __getattr__(name):
    """The scikit-learn estimators, imported on first use (scikit-learn is optional)."""
    if name in ("LPTrainRegressor", "LPTrainClassifier"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'lptrain' has no attribute {name!r}")


def load_model(path) -> Network:
    """The trained network a ``--model`` file (or :meth:`Network.save`) holds.

    Parameters
    ----------
    path : str or path-like
        A model file (JSON with a format version and a checksum).

    Returns
    -------
    Network
        Its ``predict`` takes and returns raw units when the model was trained with scaling.

    Raises
    ------
    FileFormatError
        For a missing, corrupt or altered file, or another format version.
    """
    return Network.load(path)


__all__ = ["LPTrainClassifier", "LPTrainRegressor", "Architecture", "Dataset", "Face", "Grid", "Network", "Polytope", "Scaling",
           "gap", "load_model", "make_dataset", "read_dataset", "train", "train_continuous", "__version__"]
