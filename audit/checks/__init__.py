"""The registry of audit checks: every module in this package that defines `CHECK` is one check.

Adding a check means adding a module; nothing here names them. A module that fails to import is
recorded in BROKEN, and the gate quarantines while any check cannot load (fail-closed).
"""

from __future__ import annotations

import importlib
import pkgutil

from audit.check import Check


def discover() -> tuple[dict[str, Check], dict[str, str]]:
    """(checks by name in report order, module name → why it failed to load)."""
    found: dict[str, Check] = {}
    broken: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{module_info.name}")
        except Exception as error:  # noqa: BLE001 - any failure to load must block, not crash, the gate
            broken[module_info.name] = f"{type(error).__name__}: {error}"
            continue
        check = getattr(module, "CHECK", None)
        if not isinstance(check, Check):
            continue
        if check.name in found:
            broken[module_info.name] = f"a second check named {check.name!r}"
            continue
        found[check.name] = check
    ordered = dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))
    return ordered, broken


CHECKS, BROKEN = discover()
