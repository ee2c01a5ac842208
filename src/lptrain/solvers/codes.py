"""The integer codes the compiled kernels use for losses, activations and regularizers.

numba kernels (``_fused_kernels.py``, ``_bnb_kernels.py``) take a loss or an activation as a
small integer; this module is the one place that maps names to those integers.  Callers
translate with :data:`LOSS_CODES`, :data:`ACT_CODES` and :data:`REG_CODES`; kernels compare
against the named constants (numba reads module globals as compile-time constants).

The leaky-ReLU slope is :data:`lptrain.activations.LEAKY_SLOPE`, written there once and
passed to the kernels as an argument, so that numba's on-disk cache can never hold a
kernel compiled for another slope.  (The independent checker keeps codes of its own on
purpose: it shares no code with the solvers.)
"""

from __future__ import annotations

ABSOLUTE, QUADRATIC, HINGE, CROSS_ENTROPY = 0, 1, 2, 3
LOSS_CODES = {"absolute": ABSOLUTE, "quadratic": QUADRATIC, "hinge": HINGE,
              "cross_entropy": CROSS_ENTROPY}

NO_ACTIVATION = -1
RELU, LEAKY_RELU, ELU, TANH, IDENTITY = 0, 1, 2, 3, 4
ACT_CODES = {"relu": RELU, "leaky_relu": LEAKY_RELU, "elu": ELU, "tanh": TANH, "identity": IDENTITY}

NO_REG, L1, L2 = 0, 1, 2
REG_CODES = {None: NO_REG, "l1": L1, "l2": L2}
