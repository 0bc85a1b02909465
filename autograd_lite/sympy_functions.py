"""σ and relu as SymPy functions, so formulas read like the course.

``sigma(z)`` is σ(z) = 1/(1 + e⁻ᶻ) with σ'(z) = σ(z)(1 − σ(z)); ``relu(z)`` is
max(0, z) with relu'(z) = ``Heaviside(z, 0)`` (0 at z = 0, as the engine and
PyTorch).  tanh is SymPy's own, whose derivative is already 1 − tanh².  They
stay functions: ``.rewrite(sympy.exp)`` / ``.rewrite(sympy.Piecewise)`` give
the elementary forms.  Imported only when SymPy is installed (`symbolic`).

>>> import sympy
>>> z = sympy.Symbol("z", real=True)
>>> sigma(z).diff(z)
(1 - sigma(z))*sigma(z)
>>> sympy.latex(sigma(z)), sigma(z).rewrite(sympy.exp)
('\\\\sigma\\\\left(z\\\\right)', 1/(1 + exp(-z)))
>>> relu(z).diff(z), relu(z).rewrite(sympy.Piecewise)
(Heaviside(z, 0), Piecewise((0, z <= 0), (z, True)))
"""

from __future__ import annotations

from typing import Any

import sympy as sp

ArgumentIndexError = sp.core.function.ArgumentIndexError

__all__ = ["sigma", "relu"]


class sigma(sp.Function):  # noqa: N801 -- SymPy names functions in lower case, like sympy.tanh
    """σ(z) = 1/(1 + e⁻ᶻ); σ'(z) = σ(z)(1 − σ(z))."""

    nargs = 1

    @classmethod
    def eval(cls, z: Any) -> Any:
        if z.is_zero:
            return sp.S.Half
        if z is sp.oo:
            return sp.S.One
        if z is sp.S.NegativeInfinity:
            return sp.S.Zero
        if z.is_Float:
            return 1 / (1 + sp.exp(-z))
        return None

    def fdiff(self, argindex: int = 1) -> Any:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z: Any, **kwargs: Any) -> Any:
        return 1 / (1 + sp.exp(-z))

    def _eval_rewrite_as_tanh(self, z: Any, **kwargs: Any) -> Any:
        return (1 + sp.tanh(z / 2)) / 2

    def _eval_evalf(self, prec: int) -> Any:
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real

    def _code(self, printer: Any) -> str:  # sympy.lambdify and the code printers: the elementary form
        return printer._print(self.rewrite(sp.exp))

    _numpycode = _pythoncode = _mpmathcode = _code

    def _eval_is_positive(self) -> Any:
        return self.args[0].is_extended_real or None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        tex = rf"\sigma\left({printer._print(self.args[0])}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class relu(sp.Function):  # noqa: N801
    """relu(z) = max(0, z); relu'(z) = Heaviside(z, 0) (0 at z = 0)."""

    nargs = 1

    @classmethod
    def eval(cls, z: Any) -> Any:
        if z.is_extended_nonpositive:
            return sp.S.Zero
        if z.is_extended_positive:
            return z
        return None

    def fdiff(self, argindex: int = 1) -> Any:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Piecewise(self, z: Any, **kwargs: Any) -> Any:
        return sp.Piecewise((0, z <= 0), (z, True))

    def _eval_rewrite_as_Max(self, z: Any, **kwargs: Any) -> Any:
        return sp.Max(0, z)

    def _eval_evalf(self, prec: int) -> Any:
        return sp.Max(0, self.args[0])._eval_evalf(prec)

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real

    def _code(self, printer: Any) -> str:  # sympy.lambdify and the code printers: the elementary form
        return printer._print(self.rewrite(sp.Piecewise))

    _numpycode = _pythoncode = _mpmathcode = _code

    def _eval_is_nonnegative(self) -> Any:
        return self.args[0].is_extended_real or None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        tex = rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"
