"""Every public module's ``__all__`` names exactly what it defines publicly (STYLE.md §11)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import privproc


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(privproc.__path__, prefix="privproc."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if ".commands" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_all_is_honest(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ names missing {symbol}"
    public_defined = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == name
    }
    missing = public_defined - set(exported)
    assert not missing, f"{name} defines public {sorted(missing)} outside __all__"
