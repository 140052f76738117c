"""The runnable examples in stancekit's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import stancekit


def _modules() -> list[str]:
    names = ["stancekit"]
    for info in pkgutil.walk_packages(stancekit.__path__, prefix="stancekit."):
        if not info.name.endswith("__main__"):  # runs the command line when imported
            names.append(info.name)
    return sorted(names)


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    tests = []
    for name in _modules():
        module = importlib.import_module(name)
        tests += [t for t in finder.find(module, name) if t.examples]
    return sorted(tests, key=lambda t: t.name)


EXAMPLES = _examples()


def test_the_package_has_docstring_examples_to_run() -> None:
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example_runs_as_shown(test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out: list[str] = []
    result = runner.run(test, out=out.append)
    assert result.failed == 0, "".join(out)
