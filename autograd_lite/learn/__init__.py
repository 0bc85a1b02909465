"""The workbook: graded exercises whose autograder names the mistake.

A learner writes the functions of the course (σ', the log loss's gradient, the
chain rule, backprop, ...) and checks them; the library is the oracle, so a
wrong answer gets a diagnosis in words: the smallest failing input, expected
vs got, and which classic mistake it is (for backprop and the chain rule, the
first wrong step of the chain-rule ledger).

>>> from autograd_lite import learn
>>> [e.id for e in learn.exercises()][:3]
['sigmoid_derivative', 'log_loss_gradient', 'chain_rule']
>>> report = learn.check("sigmoid_derivative", lambda z: 1 / (1 + 2.718281828459045 ** -z))
>>> report.passed, report.mistake
(False, 'sigma-not-derivative')
>>> print(learn.hint("gradient_descent", 3))
w ← w − α·∂J/∂w

On the command line: ``autograd-lite learn init DIR`` writes one stub per
exercise, ``autograd-lite learn check DIR [ID ...]`` grades them.
"""

from __future__ import annotations

from autograd_lite.learn.exercises import EXERCISES, Exercise
from autograd_lite.learn.grader import DEFAULT_TIME_LIMIT, Report, TimeLimitExceeded, check, local_derivatives
from autograd_lite.learn.workbook import check_workbook, init_workbook

__all__ = ["exercises", "hint", "check", "local_derivatives", "Report", "Exercise", "TimeLimitExceeded",
           "init_workbook", "check_workbook", "DEFAULT_TIME_LIMIT"]


class ExerciseList(list):
    """The exercises in course order: a list of `Exercise` that prints as a table."""

    def __str__(self) -> str:
        from autograd_lite.text import format_table

        return format_table(["#", "id", "title", "claim"], [(e.number, e.id, e.title, e.claim) for e in self])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from autograd_lite.text import html_table

        return html_table(["#", "id", "signature", "title", "claim"],
                          [(e.number, e.id, e.signature, e.title, e.claim) for e in self])


def exercises() -> ExerciseList:
    """Every exercise in course order: ``.id`` (the function to write), ``.title``,
    ``.claim`` (the course claim it covers), ``.signature``, ``.task``."""
    return ExerciseList(EXERCISES.values())


def hint(exercise: str, k: int = 1) -> str:
    """Hint ``k`` (1, 2, 3, ...) for an exercise: each says more; the last is the
    formula, never the code."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    hints = EXERCISES[exercise].hints
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(hints):
        raise ValueError(f"{exercise} has hints 1 to {len(hints)}; got {k!r}")
    return hints[k - 1]
