"""Function transforms in JAX's style: ``grad``, ``value_and_grad``, ``hessian``,
``hvp`` and ``jacobian``.

``f`` is an ordinary Python function of numbers written with `Value` ops (or the
functions ``exp``, ``log``, ``sigmoid`` ...).  Each argument is a number or a
flat sequence of numbers; the transform calls ``f`` on fresh leaf Values,
backpropagates, and returns plain floats.  Called on Values (that is, from
inside another transform) it returns Values instead, built with
``create_graph=True``, so transforms nest: ``grad(grad(f))`` is f''.

Second derivatives come from differentiating the gradient's own graph: the
first pass runs with ``create_graph=True`` (every local derivative of the table
is evaluated with Value ops), the second pass is ordinary backprop over it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from autograd_lite import kernels as K
from autograd_lite.engine import Value, _number, gradients, linear

__all__ = ["grad", "value_and_grad", "hessian", "hvp", "jacobian"]

Argnums = int | Sequence[int]

# numpy's integers, arrays and numbers count too, where numpy is installed
_INTS = (int, *((K.np.integer,) if K.np is not None else ()))
_SEQUENCES = (list, tuple, *K.NDARRAY)
_NUMBERS = (int, float, *((K.np.number,) if K.np is not None else ()))


def _normalize_argnums(argnums: Argnums, nargs: int, name: str) -> tuple[int, ...]:
    many = not isinstance(argnums, _INTS)
    if many and not isinstance(argnums, (tuple, list, range)):  # range(289): many arguments at once
        raise TypeError(f"{name}: argnums must be ints (an int, a tuple of ints or a range), "
                        f"got {type(argnums).__name__}")
    nums: tuple[Any, ...] = tuple(argnums) if many else (argnums,)  # type: ignore[arg-type]
    if not nums:
        raise ValueError(f"{name}: argnums is empty")
    if isinstance(argnums, range) and argnums.step > 0 and 0 <= argnums.start and argnums[-1] < nargs:
        return nums  # ints in range by construction (range(289) is checked at once, not one by one)
    for i in nums:
        if not isinstance(i, _INTS) or isinstance(i, bool):
            raise TypeError(f"{name}: argnums must be ints, got {type(i).__name__}")
        if not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums={i} is out of range for a call with {nargs} argument(s)")
    return tuple(int(i) % nargs for i in nums)


def _lift(arg: Any, where: str) -> Value | list[Value]:
    """A number becomes a fresh leaf; a Value stays itself; a sequence, a list of them."""
    if isinstance(arg, Value):
        return arg
    if isinstance(arg, _SEQUENCES):
        if isinstance(arg, K.NDARRAY) and arg.ndim != 1:
            raise ValueError(f"{where}: arrays must be 1-D, got shape {arg.shape}")
        return [x if isinstance(x, Value) else Value(_number(x, where)) for x in arg]
    return Value(_number(arg, where))


def _any_value(args: Sequence[Any]) -> bool:
    return any(isinstance(a, Value) or (isinstance(a, (list, tuple)) and any(isinstance(x, Value) for x in a))
               for a in args)


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """``f ↦ (x ↦ (f(x), ∂f/∂x))`` for the arguments named by ``argnums``.

    ``argnums`` is an int (the gradient is a float, or a list for a sequence
    argument) or a tuple of ints (a tuple of those).  Keyword arguments are
    passed to ``f`` as they are (not differentiated, as in JAX)."""

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        name = f"grad({_fname(f)})"
        nested, leaves, flat = _prepare(args, argnums, name)
        nums = _normalize_argnums(argnums, len(args), name)
        out = _scalar_output(_call(f, leaves, kwargs, name), name, leaves)
        gs = iter(gradients(out, flat, create_graph=nested))
        results = [[next(gs) for _ in leaves[i]] if isinstance(leaves[i], list) else next(gs) for i in nums]
        grads = results[0] if isinstance(argnums, _INTS) else tuple(results)
        return (out if nested else out.data), grads

    return wrapped


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """``f ↦ ∂f/∂x``: a function returning the derivative(s) of ``f`` with respect
    to the arguments in ``argnums``, as floats (JAX's ``jax.grad``).  ``f`` takes
    numbers (or flat sequences of numbers, which it receives as lists of Values)
    and returns one scalar `Value`; keyword arguments are passed through to ``f``.

    >>> from autograd_lite import grad, sigmoid
    >>> round(grad(sigmoid)(0.0), 6)        # σ'(0) = σ(0)(1 − σ(0)) = 1/4
    0.25
    >>> grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (4.0, 3.0)
    >>> grad(grad(lambda x: x ** 3))(2.0)    # d²/dx² x³ = 6x
    12.0
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return wrapped


# --------------------------------------------------------------------------
# Second derivatives
# --------------------------------------------------------------------------


def _fname(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _array_hint(leaves: Sequence[Any] | None) -> str:
    arrays = [i for i, a in enumerate(leaves or ()) if isinstance(a, list)]
    if not arrays:
        return ""
    i = arrays[0]
    return (f"; argument {i} is an array, which f receives as a list of {len(leaves[i])} Values "  # type: ignore[index]
            "(Python list arithmetic repeats or fails): index it (x[0]) or reduce it to one Value "
            "(a sum of terms), or use jacobian(f) for a vector output")


def _call(f: Callable[..., Any], leaves: list[Any], kwargs: dict[str, Any], name: str) -> Any:
    """``f(*leaves, **kwargs)``, with a hint when an array argument (a list of Values) broke ``f``."""
    try:
        return f(*leaves, **kwargs)
    except (TypeError, AttributeError) as e:
        hint = _array_hint(leaves)
        if hint and "list" in str(e):
            raise TypeError(f"{name}: f must take numbers and return one scalar Value, but it failed with "
                            f"{type(e).__name__}: {e}{hint}") from e
        raise


def _scalar_output(out: Any, name: str, leaves: Sequence[Any] | None = None) -> Value:
    """``f``'s result as a Value; a plain number is a constant function (all derivatives 0)."""
    if isinstance(out, Value):
        return out
    if isinstance(out, _NUMBERS) and not isinstance(out, bool):
        return Value(out)
    shape = f" of length {len(out)}" if isinstance(out, _SEQUENCES) else ""
    raise TypeError(f"{name}: f must return one Value (a scalar), got {type(out).__name__}{shape}: gradients "
                    f"are defined for scalar-output functions{_array_hint(leaves)}")


def _variables(args: Sequence[Any], nums: Sequence[int], name: str) -> tuple[list[Any], list[Any]]:
    """Lift the arguments in ``nums`` to leaves; return all arguments and the flat list
    of variables (argument by argument in ``nums`` order, sequences element by element)."""
    if len(set(nums)) != len(nums):
        raise ValueError(f"{name}: argnums {tuple(nums)} names an argument more than once")
    leaves: list[Any] = [_lift(a, name) if i in nums else a for i, a in enumerate(args)]
    flat = [x for i in nums for x in (leaves[i] if isinstance(leaves[i], list) else [leaves[i]])]
    if not flat:
        raise ValueError(f"{name}: there is nothing to differentiate (the arguments in argnums are empty)")
    if len(set(map(id, flat))) != len(flat):
        raise ValueError(f"{name}: the same Value is passed twice among the differentiated arguments")
    return leaves, flat


def _prepare(args: Sequence[Any], argnums: Argnums | None, name: str) -> tuple[bool, list[Any], list[Value]]:
    """What every transform does first: check the call, pick the variables
    (``argnums``; None = all arguments) and lift them to leaves.  Returns whether
    the call is nested inside another transform (it got Values), all arguments,
    and the flat list of variables."""
    if not args:
        raise TypeError(f"{name} needs at least one argument to differentiate")
    nums = tuple(range(len(args))) if argnums is None else _normalize_argnums(argnums, len(args), name)
    leaves, flat = _variables(args, nums, name)
    return _any_value(args), leaves, flat


def hessian(f: Callable[..., Any], argnums: Argnums | None = None) -> Callable[..., list[list[Any]]]:
    """``f ↦ (x ↦ H)`` with Hᵢⱼ = ∂²f/∂xᵢ∂xⱼ, a list of lists of floats.

    The variables are the arguments in ``argnums`` (default: all of them, like
    ``torch.autograd.functional.hessian``), flattened in order: a number is one
    variable, a flat sequence one variable per element.  A scalar function of
    one number gives a 1×1 matrix.  Cost: one ``create_graph`` pass, then one
    backward pass per variable over the gradient's graph (row i = ∇(∂f/∂xᵢ)).

    >>> from autograd_lite import hessian
    >>> hessian(lambda x, y: x * x * y + y ** 3)(1.0, 2.0)   # [[2y, 2x], [2x, 6y]]
    [[4.0, 2.0], [2.0, 12.0]]
    >>> hessian(lambda w: (w[0] * w[1]).exp())([0.0, 0.0])
    [[0.0, 1.0], [1.0, 0.0]]
    >>> hessian(lambda x, y: x ** 3 * y, argnums=0)(2.0, 5.0)   # 6xy
    [[60.0]]
    """

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> list[list[Any]]:
        name = f"hessian({_fname(f)})"
        nested, leaves, flat = _prepare(args, argnums, name)
        out = _scalar_output(_call(f, leaves, kwargs, name), name, leaves)
        first = gradients(out, flat, create_graph=True)
        return [list(gradients(g, flat, create_graph=nested)) for g in first]

    return wrapped


def hvp(f: Callable[..., Any]) -> Callable[[Sequence[Any], Sequence[Any]], Any]:
    """``f ↦ ((x, v) ↦ H(x)·v)``, the Hessian-vector product, JAX-style.

    ``hvp(f)(primals, tangents)``: ``primals`` is the tuple of ``f``'s arguments
    (each a number or a flat sequence), ``tangents`` the vector v in the same
    structure; the result has that structure too.  H·v = ∇ₓ(∇ₓf · v) costs one
    ``create_graph`` pass and one backward pass, whatever the size of x -- the
    Hessian itself is never formed.

    >>> from autograd_lite import hvp
    >>> f = lambda x, y: x * x * y + y ** 3                  # H = [[2y, 2x], [2x, 6y]]
    >>> hvp(f)((1.0, 2.0), (1.0, 0.0))                      # first column of H
    (4.0, 2.0)
    >>> hvp(lambda w: w[0] ** 2 * w[1])(([1.0, 3.0],), ([1.0, 1.0],))   # one vector argument
    ([8.0, 2.0],)
    """

    @functools.wraps(f)
    def wrapped(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        name = f"hvp({_fname(f)})"
        for what, seq in (("primals", primals), ("tangents", tangents)):
            if not isinstance(seq, (tuple, list)):
                raise TypeError(f"{name}: {what} must be a tuple of f's arguments, got {type(seq).__name__}; "
                                f"for a single argument x write hvp(f)((x,), (v,))")
        if len(primals) != len(tangents):
            raise ValueError(f"{name}: {len(primals)} primals but {len(tangents)} tangents")
        if not primals:
            raise TypeError(f"{name} needs at least one argument to differentiate")
        _check_arity(f, len(primals), name)
        nested = _any_value(primals) or _any_value(tangents)
        leaves, flat = _variables(primals, range(len(primals)), name)
        vs: list[Any] = []
        for i, (x, t) in enumerate(zip(leaves, tangents)):
            if isinstance(x, list):
                if not isinstance(t, _SEQUENCES) or len(t) != len(x):
                    size = f"{len(t)} elements" if isinstance(t, _SEQUENCES) else "a scalar"
                    raise ValueError(f"{name}: argument {i} has {len(x)} elements but its tangent is {size}")
                vs.extend(v if isinstance(v, Value) else _number(v, name) for v in t)
            else:
                if isinstance(t, _SEQUENCES):
                    raise ValueError(f"{name}: argument {i} is a scalar but its tangent is a sequence")
                vs.append(t if isinstance(t, Value) else _number(t, name))
        out = _scalar_output(f(*leaves), name)
        grad_f = gradients(out, flat, create_graph=True)
        directional = linear(grad_f, vs, Value(0.0))  # ∇f·v as one node
        hv = iter(gradients(directional, flat, create_graph=nested))
        result = [[next(hv) for _ in x] if isinstance(x, list) else next(hv) for x in leaves]
        return result if isinstance(primals, list) else tuple(result)

    return wrapped


def _check_arity(f: Callable[..., Any], n: int, name: str) -> None:
    """A clear error when ``f`` cannot take n positional arguments (a common slip:
    passing one vector argument as the primals tuple itself)."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*range(n))
    except TypeError as e:
        raise TypeError(f"{name}: primals has {n} entries, one per argument of f, but f cannot take {n} "
                        f"arguments ({e}); for one vector argument x write hvp(f)((x,), (v,))") from None


def jacobian(f: Callable[..., Any], argnums: Argnums | None = None) -> Callable[..., list[list[Any]]]:
    """``f ↦ (x ↦ J)`` with Jᵢⱼ = ∂fᵢ/∂xⱼ for ``f`` returning a sequence of scalars
    (one row per output; a single scalar output gives one row, the gradient).

    Variables are flattened as in `hessian`; one backward pass per output.

    >>> from autograd_lite import exp
    >>> jacobian(lambda x, y: [x * y, x + y, exp(x)])(0.0, 2.0)
    [[2.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    """

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> list[list[Any]]:
        name = f"jacobian({_fname(f)})"
        nested, leaves, flat = _prepare(args, argnums, name)
        out = _call(f, leaves, kwargs, name)
        outs = out if isinstance(out, (list, tuple)) else [out]
        if isinstance(out, K.NDARRAY):
            if out.ndim != 1:
                raise ValueError(f"{name}: f must return a scalar or a flat sequence, got shape {out.shape}")
            outs = list(out)
        outs = [_scalar_output(o, f"{name} output {k}") for k, o in enumerate(outs)]
        return [list(gradients(o, flat, create_graph=nested)) for o in outs]

    return wrapped
