"""Optional dependencies, imported only by the feature that needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from greenopt.errors import MissingDependencyError


def require(module: str, feature: str, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` for ``feature``, or raise :class:`MissingDependencyError` saying how to
    install it (``pip install 'greenopt[extra]'``, which brings ``package``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs the optional package {package or module!r}, which is not "
            f"installed ({exc}); install it with: pip install 'greenopt[{extra}]'"
        ) from None
