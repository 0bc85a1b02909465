"""The workbook's exercises: ids (stable), titles, the course claim each covers,
the stub a learner starts from, and progressive hints (the last one a formula)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Exercise", "EXERCISES", "stub_text", "filename"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``id`` names the function to write; ``number`` is its place in the course."""

    number: int
    id: str
    title: str
    claim: str
    signature: str
    task: str
    hints: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.number}. {self.id}{self.signature} -- {self.title} ({self.claim})"


_EXERCISES = [
    Exercise(
        1, "sigmoid_derivative", "the sigmoid's derivative",
        "C9: σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4, vanishing where σ saturates",
        "(z: float) -> float",
        """σ'(z), the derivative of the sigmoid σ(z) = 1 / (1 + e^(−z)), at the number z.

    Math: σ'(z) = σ(z)·(1 − σ(z)).  It must work for every float z, including
    z = ±1000 (σ saturates there: σ'(z) is 0 to double precision, not an error).""",
        ("σ' is the derivative of σ, not σ itself: at z = 0, σ(0) = 1/2 but σ'(0) = 1/4.",
         "Compute s = σ(z) once, then combine s with 1 − s.  e^(−z) overflows a float for "
         "z below about −709: never take the exponential of a large positive number.",
         "σ'(z) = σ(z)(1 − σ(z)),  with σ(z) = 1/(1 + e^(−z)) for z ≥ 0 and σ(z) = e^z/(1 + e^z) for z < 0")),
    Exercise(
        2, "log_loss_gradient", "the log loss's gradient",
        "C2, C6: L(a, y) = −[y ln a + (1 − y) ln(1 − a)]",
        "(a: float, y: float) -> float",
        """dL/da, the derivative of the log loss L(a, y) = −[y·ln a + (1 − y)·ln(1 − a)]
    with respect to the prediction a (0 < a < 1), for a label y ∈ {0, 1}.

    Math: differentiate each term: (ln a)' = 1/a, (ln(1 − a))' = −1/(1 − a).
    This is the gradient with respect to a, not to z (that would be a − y).""",
        ("Differentiate term by term; y and 1 − y are constants.",
         "(ln a)' = 1/a and, by the chain rule, (ln(1 − a))' = −1/(1 − a).  Mind the minus sign in front of L.",
         "dL/da = −y/a + (1 − y)/(1 − a) = (a − y) / (a(1 − a))")),
    Exercise(
        3, "chain_rule", "the logistic neuron's gradient by hand",
        "C6: dL/dw = dL/da · da/dz · dz/dw",
        "(x1: float, x2: float, w1: float, w2: float, b: float, y: float) -> tuple[float, float, float]",
        """(dL/dw1, dL/dw2, dL/db) for the logistic neuron
        z = w1·x1 + w2·x2 + b,   a = σ(z),   L = −[y·ln a + (1 − y)·ln(1 − a)]
    as the product of the three local derivatives along the graph z → a → L:
        dL/dw1 = dL/da · da/dz · dz/dw1   (and the same for w2 and b).""",
        ("Three local derivatives: dL/da (the log loss), da/dz (the sigmoid), dz/dw (the linear part).",
         "da/dz = a(1 − a); dz/dw1 is the input that w1 multiplies, x1; dz/db = 1.",
         "dL/dw1 = (−y/a + (1 − y)/(1 − a)) · a(1 − a) · x1 = (a − y)·x1,  dL/dw2 = (a − y)·x2,  dL/db = a − y")),
    Exercise(
        4, "backprop", "backpropagation",
        "C5: backprop is the chain rule applied backwards over the graph",
        "(root: Value) -> None",
        """Set .grad = ∂root/∂node on every node of root's graph (every .grad starts at 0).

    learn.local_derivatives(node) gives the (parent, ∂node/∂parent) pairs of one node
    (none for a leaf).  The rest is yours: the seed ∂root/∂root = 1, an order in which
    every node's gradient is complete before it is passed on, and accumulation: a
    node used twice receives two contributions, which add up:
        ∂root/∂parent = Σ over the nodes c that use it of ∂root/∂c · ∂c/∂parent.
    It must work on a chain of 10,000 nodes (Python's recursion limit is about 1,000).""",
        ("Start with the seed: the root's gradient with respect to itself is 1.  Then walk from the root "
         "towards the leaves.",
         "A node may pass its gradient on only when every node that uses it has added its contribution: "
         "sort the nodes topologically (consumers before producers) without recursion, e.g. with an explicit "
         "stack, and add contributions (a node used twice gets two).",
         "dL/dL = 1,   dL/dp = Σ over the nodes c that use p of dL/dc · ∂c/∂p,   with every dL/dc complete "
         "before it is used (topological order, consumers first)")),
    Exercise(
        5, "gradient_descent", "one step of gradient descent",
        "C4: w ← w − α·∂J/∂w",
        "(params: list[Value], lr: float) -> None",
        """One step of gradient descent: move every parameter's .data against its
    gradient .grad (already computed), in place, by the learning rate lr.

    Math: w ← w − α·∂J/∂w for every parameter w (α = lr).""",
        ("The gradient points uphill, towards larger J.",
         "Change p.data itself (in place): rebinding a loop variable changes nothing.",
         "w ← w − α·∂J/∂w")),
    Exercise(
        6, "initialise", "random initialisation",
        "C11: equal weights keep hidden units identical; random weights break the symmetry",
        "(n_in: int, n_out: int, seed: int) -> list[list[float]]",
        """A weight matrix for a layer of n_out units with n_in inputs each: n_out rows
    of n_in floats (one row per unit, as nn.Layer and PyTorch's Linear store it),
    reproducible (the same seed gives the same matrix, another seed another one).

    Math: small random numbers, e.g. wᵢⱼ ~ N(0, 1/n_in) or 0.01·N(0, 1).""",
        ("If two units start with the same weights they get the same gradients: think about what that means "
         "for training.",
         "Use a generator made from the seed (random.Random(seed) or numpy's default_rng(seed)) so the result "
         "is reproducible; keep the numbers small so σ and tanh do not saturate.",
         "wᵢⱼ ~ N(0, 1/n_in),  i = 1..n_out, j = 1..n_in")),
    Exercise(
        7, "vectorized_logreg", "vectorised logistic regression",
        "C13, vectorisation: the cost J is the mean loss; its gradient as matrix products, no loops",
        "(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]",
        """(dJ/dw, dJ/db) for logistic regression on a batch, with numpy and no Python loop:
        X: (m, n) examples as rows,  y: (m,) labels in {0, 1},  w: (n,),  b: a number
        a = σ(Xw + b),   J = (1/m)·Σᵢ L(aᵢ, yᵢ)   (the mean log loss)
    dw has the shape of w, db is a number.""",
        ("Per example, dL/dz = a − y (exercise 3).  Stack the examples as rows and let matrix products do "
         "the sums.",
         "Xᵀ(a − y) sums xᵢ(aᵢ − yᵢ) over the examples; J is a mean, not a sum.",
         "dw = (1/m)·Xᵀ(σ(Xw + b) − y),   db = (1/m)·Σᵢ (aᵢ − yᵢ)")),
    Exercise(
        8, "new_op", "a new primitive: softplus",
        "the derivative table: each op is a forward function and its local derivative, side by side",
        "() -> tuple[Callable[[float], float], Callable[[float, float], float]]",
        """The pair (forward, derivative) of a new primitive, softplus, as a row of
    autograd_lite's derivative table would hold it:
        forward(x) = softplus(x) = ln(1 + eˣ)
        derivative(x, out) = ∂out/∂x, given the input x and the output out = forward(x)
    Both must work for every float x, including x = ±1000 (no overflow).
    Return the two functions: ``return forward, derivative``.""",
        ("The derivative of ln(1 + eˣ) is a function you have met already.",
         "eˣ overflows for x above about 709: rewrite ln(1 + eˣ) so that the exponential only ever sees "
         "−|x|; the derivative may use x or out.",
         "softplus(x) = max(x, 0) + ln(1 + e^(−|x|)),   softplus'(x) = σ(x) = 1/(1 + e^(−x))")),
]

EXERCISES: dict[str, Exercise] = {e.id: e for e in _EXERCISES}
"""Exercise id → exercise, in course order."""


def filename(ex: Exercise) -> str:
    """The stub's file name: ``04_backprop.py`` (sorted by name = course order)."""
    return f"{ex.number:02d}_{ex.id}.py"


def stub_text(ex: Exercise) -> str:
    """The stub file of one exercise: its function, signature, task and math; the body raises."""
    params = ex.signature.split(" -> ")[0]
    returns = ex.signature.split(" -> ")[1]
    typing = "from collections.abc import Callable\n" if "Callable" in returns else ""
    # every stub imports the same tools, whichever the exercise needs, so that any answer pasted in runs
    imports = f"import math\nimport random\n{typing}\nimport numpy as np\n\nfrom autograd_lite import Value, learn\n"
    return f'''"""Exercise {ex.number} of the autograd_lite workbook: {ex.id} -- {ex.title}.

Course claim: {ex.claim}.
Write the function below, then check it:
    autograd-lite learn check <this folder> {ex.id}
Stuck?  autograd-lite learn hint {ex.id} 1     (hints 1, 2, 3; in Python: learn.hint("{ex.id}", 1))
"""

from __future__ import annotations

{imports}

def {ex.id}{params} -> {returns}:
    """{ex.task}
    """
    raise NotImplementedError
'''
