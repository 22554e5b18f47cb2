"""The oldest versions the course claims to work with, as exact pins (``make test-floor``).

pyproject.toml declares floors (``keras>=3.5``); this module turns them into ``name==floor``
constraints, so that scripts/test_floor.sh installs exactly the oldest release the project
promises and runs the architecture tests on it. A floor that fails there must be raised.

    python course_utils/maintainer/floors.py                      # the pins, one a line
    python course_utils/maintainer/floors.py --override keras==3.6.0
    python course_utils/maintainer/floors.py --backend jax        # JAX's floor, not TensorFlow's

Standard library only: it runs before the floor environment (and its packages) exists, so
it is run as a file rather than imported through ``course_utils``. ``FLOOR_OVERRIDES``
(``"keras==3.6.0 numpy==1.26.4"``) adds to the ``--override`` options, for trying a new
floor before pyproject.toml declares it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The packages the architectures depend on (the core dependencies and the backend the
# tests run on), and where each one's floor is declared: "" is [project] dependencies,
# any other name an optional extra.
CORE_PACKAGES = {
    "keras": "",
    "numpy": "",
    "pandas": "",
    "matplotlib": "",
    "scikit-image": "",
}
# Each backend the floor test runs, and where its package's floor is declared. The oldest
# TensorFlow and the oldest JAX cannot share an environment (TensorFlow 2.16 wants
# ml-dtypes 0.3, JAX 0.4.34 at least 0.4): each gets its own, without the other.
BACKEND_PACKAGES = {
    "tensorflow": {"tensorflow-cpu": "tf-cpu"},
    "jax": {"jax": "dev"},
}
FLOOR_PACKAGES = {**CORE_PACKAGES, **BACKEND_PACKAGES["tensorflow"]}


def packages_for(backend: str = "tensorflow") -> dict[str, str]:
    """The packages whose floors are pinned for a run on ``backend``: the core ones and
    the backend's own."""
    if backend not in BACKEND_PACKAGES:
        raise FloorError(f"no floor test for the backend {backend!r}; choose among "
                         f"{', '.join(BACKEND_PACKAGES)}")
    return {**CORE_PACKAGES, **BACKEND_PACKAGES[backend]}
OVERRIDES_VAR = "FLOOR_OVERRIDES"

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_VERSION = re.compile(r"^\d+(\.\d+)*$")


class FloorError(ValueError):
    """A requirement has no floor that can be pinned: the message says which and why."""


def canonical(name: str) -> str:
    """A package name as PyPI compares it (PEP 503): ``Scikit_Image`` -> ``scikit-image``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def floor_of(requirement: str) -> tuple[str, str]:
    """``(name, oldest version)`` that the requirement ``requirement`` accepts.

    The floor is the highest ``>=`` (or ``~=``, or an exact ``==``) bound; ``>`` alone or no
    lower bound at all has no oldest release to pin, and raises :class:`FloorError`.

    >>> floor_of("keras>=3.5,<4")
    ('keras', '3.5')
    """
    text = requirement.split(";", 1)[0].strip()  # environment markers play no part here
    match = _NAME.match(text)
    if not match:
        raise FloorError(f"cannot read the requirement {requirement!r}: expected 'name>=version'")
    name, specifiers = canonical(match.group(1)), match.group(3).strip().strip("()")
    floors = []
    for spec in filter(None, (s.strip() for s in specifiers.split(","))):
        op, version = re.match(r"^(~=|==|>=|<=|!=|>|<|===)?\s*(.*)$", spec).groups()
        if op in (">=", "~=", "==") and _VERSION.match(version):
            floors.append(version)
        elif op in ("==", "===") or (op == ">=" and not _VERSION.match(version)):
            raise FloorError(f"{requirement!r}: cannot pin the bound {spec!r} (expected a plain "
                             "release such as '>=3.5')")
    if not floors:
        raise FloorError(f"{requirement!r} declares no floor (no '>=' bound): the floor test "
                         f"cannot pin an oldest {name}. Hint: declare one, e.g. '{name}>=X.Y'.")
    return name, max(floors, key=lambda v: tuple(int(p) for p in v.split(".")))


def declared_floors(pyproject: str | Path = ROOT / "pyproject.toml", *,
                    packages: dict[str, str] | None = None) -> dict[str, str]:
    """``{package: floor}`` for each of ``packages`` (default :data:`FLOOR_PACKAGES`),
    read where each is declared in ``pyproject`` (its dependencies or the named extra)."""
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    extras = project.get("optional-dependencies", {})
    wanted = FLOOR_PACKAGES if packages is None else packages
    floors = {}
    for package, extra in wanted.items():
        if extra and extra not in extras:
            raise FloorError(f"{pyproject}: no optional extra {extra!r}, where the floor of "
                             f"{package} was expected; extras: {sorted(extras)}")
        lines = extras[extra] if extra else project.get("dependencies", [])
        found = [floor_of(line) for line in lines if _requirement_name(line) == canonical(package)]
        if not found:
            where = f"the extra {extra!r}" if extra else "[project] dependencies"
            raise FloorError(f"{pyproject}: {package} is not declared in {where}. Hint: "
                             "update FLOOR_PACKAGES in course_utils/maintainer/floors.py.")
        floors[canonical(package)] = found[0][1]
    return floors


def _requirement_name(line: str) -> str:
    match = _NAME.match(line.split(";", 1)[0])
    return canonical(match.group(1)) if match else ""


def parse_overrides(items) -> dict[str, str]:
    """``{package: version}`` from ``["keras==3.6.0", "numpy==1.26.4"]`` (or one string
    separated by spaces or commas, as in ``$FLOOR_OVERRIDES``)."""
    if isinstance(items, str):
        items = items.replace(",", " ").split()
    overrides = {}
    for item in items:
        name, sep, version = item.partition("==")
        if not sep or not _NAME.match(name) or not _VERSION.match(version.strip()):
            raise FloorError(f"override {item!r}: expected 'package==version', e.g. "
                             "'keras==3.6.0'")
        overrides[canonical(name.strip())] = version.strip()
    return overrides


def constraints(floors: dict[str, str], *, overrides: dict[str, str] | None = None) -> list[str]:
    """The pip constraint lines ``name==version``: each floor, replaced where ``overrides``
    names the package (an override may also pin a package that has no declared floor)."""
    pinned = {**floors, **(overrides or {})}
    return [f"{name}=={version}" for name, version in sorted(pinned.items())]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Print pyproject.toml's floors as exact pins.")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--backend", default="tensorflow",
                        help=f"whose package is pinned beside the core ones: "
                             f"{', '.join(BACKEND_PACKAGES)} (default tensorflow)")
    parser.add_argument("--override", action="append", default=[], metavar="PKG==VERSION",
                        help=f"pin PKG at VERSION instead (repeatable; also ${OVERRIDES_VAR})")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(os.environ.get(OVERRIDES_VAR, ""))
        overrides.update(parse_overrides(args.override))
        lines = constraints(declared_floors(args.pyproject, packages=packages_for(args.backend)),
                            overrides=overrides)
    except (FloorError, OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"floors: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
