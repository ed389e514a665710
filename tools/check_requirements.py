"""Check that this integration's requirements install on every supported Home Assistant line.

    python -m tools.check_requirements [--floor VERSION] [--requirement REQ ...]

Home Assistant installs an integration's manifest requirements one at a time with

    python -m uv pip install --quiet REQ --index-strategy unsafe-first-match --upgrade \\
        --constraint homeassistant/package_constraints.txt

so a requirement fails when it conflicts with a pin in that file, and silently breaks a core
integration when it replaces a version that the core integration's own manifest pins exactly
(e.g. ``zha`` and ``homeassistant_hardware`` pin ``serialx==0.6.2`` in 2026.2-2026.4). For the
first release of every monthly line from the floor in hacs.json on (and the newest release),
this resolves each requirement the way Home Assistant would, without installing anything, and
compares the result with the release's constraints and core manifest pins.

Exits 0 when every release is fine, 1 when any has a conflict. Needs ``packaging`` and ``uv``
(a Home Assistant dependency) in the running interpreter and network access to the index; the
release wheels are cached by ``tools.ha_releases``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from functools import partial
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any, cast

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from tools import ha_releases
from tools.ha_releases import CorePin, normalise

HACS = ha_releases.REPO / "hacs.json"
# The Python Home Assistant runs on; uv resolves for it whatever interpreter runs this check.
PYTHON_VERSION = "3.14"
MARKER_ENVIRONMENT = {
    "python_version": PYTHON_VERSION,
    "python_full_version": f"{PYTHON_VERSION}.0",
}
CONSTRAINTS_NAME = "package_constraints.txt"
WORKERS = 4
# Bumped when what release_data() keeps changes.
CACHE_FORMAT = "check-requirements-1"


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """What the check found for one release."""

    release: str
    resolved: dict[str, str]
    problems: list[str]


# --- pure logic: no network, no subprocesses ----------------------------------------------


def _same_version(left: str, right: str) -> bool:
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right


def _allows(specifier: SpecifierSet, version: str) -> bool:
    try:
        return specifier.contains(version, prereleases=True)
    except InvalidVersion:  # not PEP 440: only an exact textual pin can allow it
        return any(spec.operator in ("==", "===") and spec.version == version for spec in specifier)


def _exact_versions(specifier: SpecifierSet) -> list[str]:
    return [
        spec.version
        for spec in specifier
        if spec.operator in ("==", "===") and not spec.version.endswith(".*")
    ]


def _disjoint(left: SpecifierSet, right: SpecifierSet) -> bool:
    """Whether an exact version on one side is one the other side excludes. Two open ranges
    are left to the resolver: without the index's version list that cannot be decided."""
    return any(not _allows(right, version) for version in _exact_versions(left)) or any(
        not _allows(left, version) for version in _exact_versions(right)
    )


def _applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(MARKER_ENVIRONMENT)


def parse_constraints(text: str) -> list[tuple[str, Requirement]]:
    """The constraints file's lines that apply to the target Python, as written and parsed."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if _applies(requirement):
            found.append((line, requirement))
    return found


def _join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _pinned_by(pins: Iterable[CorePin]) -> str:
    """``a's and b's foo==1``: who pins what, in a stable order."""
    by_requirement: dict[str, list[str]] = {}
    for pin in sorted(pins, key=lambda pin: (pin.requirement, pin.integration)):
        by_requirement.setdefault(pin.requirement, []).append(f"{pin.integration}'s")
    return _join(
        [
            f"{_join(integrations)} {requirement}"
            for requirement, integrations in by_requirement.items()
        ]
    )


def conflicts(
    release: str,
    requirements: Sequence[str],
    constraints: str,
    pins: Mapping[str, Sequence[CorePin]],
    resolved: Mapping[str, str],
    unresolved: Mapping[str, str] | None = None,
) -> list[str]:
    """Every conflict of ``requirements`` with one Home Assistant release, as messages.

    ``constraints`` is the text of the release's package_constraints.txt, ``pins`` its core
    manifests' exact pins by normalised name (``ha_releases.core_pins``), ``resolved`` the
    name -> version uv resolved the requirements to, ``unresolved`` requirement -> uv's reason
    for those it could not resolve.

    A requirement is checked against the constraints and the core pins before resolution, so
    the message names the pin even when uv's is cryptic (uv's own is then left out when the
    constraints explain it); then every resolved package against the core pins, unless its
    requirement has already been reported.
    """
    unresolved = unresolved or {}
    messages = []
    constrained = parse_constraints(constraints)
    reported: set[str] = set()
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            messages.append(f"HA {release}: {text} is not a valid requirement: {error}")
            continue
        if not _applies(requirement):
            continue
        name = normalise(requirement.name)
        against = [
            f"{line} in {CONSTRAINTS_NAME}"
            for line, constraint in constrained
            if normalise(constraint.name) == name
            and _disjoint(requirement.specifier, constraint.specifier)
        ]
        explained = bool(against)
        excluded = [
            pin for pin in pins.get(name, ()) if not _allows(requirement.specifier, pin.version)
        ]
        if excluded:
            against.append(_pinned_by(excluded))
        if against:
            messages.append(f"HA {release}: {text} conflicts with {_join(against)}")
            reported.add(name)
        if text in unresolved and not explained:
            messages.append(f"HA {release}: cannot install {text}: {unresolved[text]}")
    for package, version in sorted(resolved.items()):
        name = normalise(package)
        if name in reported:
            continue
        differing = [pin for pin in pins.get(name, ()) if not _same_version(version, pin.version)]
        if differing:
            messages.append(
                f"HA {release}: {package}=={version} conflicts with {_pinned_by(differing)}"
            )
    return messages


def parse_resolved(output: str) -> dict[str, str]:
    """``uv pip compile`` output (no header, no annotations) as name -> version."""
    resolved = {}
    for raw in output.splitlines():
        line = raw.split(";", 1)[0].split("#", 1)[0].strip()
        if match := ha_releases.PIN.match(line):
            resolved[match[1]] = match[2]
    return resolved


def error_line(stderr: str) -> str:
    """The line of uv's error output that says why: its conclusion, else its last line."""
    lines = [
        line.strip()
        .removeprefix("cause:")
        .removeprefix("╰─▶")
        .removeprefix("\N{MULTIPLICATION SIGN}")
        .strip()
        for line in stderr.splitlines()
    ]
    lines = [line for line in lines if line and not line.startswith("hint:")]
    for line in reversed(lines):
        if "unsatisfiable" in line:
            return line
    return lines[-1] if lines else "uv failed without a message"


def summary_line(release: str, requirements: Sequence[str], resolved: Mapping[str, str]) -> str:
    """``HA 2026.5.0: serialx==1.7.0 (typing-extensions==4.15.0) ok``: the requirements'
    resolved versions, then the rest of their closure in brackets."""
    direct = set()
    for text in requirements:
        try:
            direct.add(normalise(Requirement(text).name))
        except InvalidRequirement:
            continue
    own = [f"{name}=={resolved[name]}" for name in resolved if normalise(name) in direct]
    rest = [f"{name}=={resolved[name]}" for name in resolved if normalise(name) not in direct]
    closure = " ".join(own) + (f" ({', '.join(rest)})" if rest else "")
    return f"HA {release}: {closure or 'nothing to install'} ok"


# --- the releases, uv and the command line ------------------------------------------------


def say(*lines: str) -> None:
    """Write ``lines`` to standard output now, not when the last release is done."""
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()


def floor() -> str:
    """The oldest supported release: hacs.json's ``homeassistant``."""
    return str(json.loads(HACS.read_text(encoding="utf-8"))["homeassistant"])


def resolve(requirement: str, constraints: Path) -> dict[str, str] | str:
    """What ``requirement`` resolves to under ``constraints``, or uv's reason why it cannot.

    ``uv pip compile`` rather than ``uv pip install --dry-run --target DIR``: both resolve
    without installing, but compile resolves for ``--python-version`` whatever interpreter
    runs this check, and prints a plain ``name==version`` list. Home Assistant's ``--upgrade``
    drops the installed versions as preferences, so resolving from nothing (newest versions
    the constraints allow) is what it installs. Its options are passed alike; ``--no-config``
    keeps a developer's uv.toml out, while UV_* variables (an index mirror) still apply.
    """
    command = [
        sys.executable, "-m", "uv", "pip", "compile", "-",
        "--python-version", PYTHON_VERSION,
        "--constraint", str(constraints),
        "--index-strategy", "unsafe-first-match",
        "--no-header", "--no-annotate", "--quiet", "--no-config",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        input=f"{requirement}\n",
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    if result.returncode != 0:
        return error_line(result.stderr)
    return parse_resolved(result.stdout)


def release_data(release: str) -> tuple[str, dict[str, list[CorePin]]]:
    """The release's package_constraints.txt and core manifest pins, kept next to its wheel:
    reading them from the 60 MB wheel takes longer than resolving."""
    path = ha_releases.RELEASES / f"homeassistant-{release}-{CACHE_FORMAT}.json"
    try:
        data = cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))
        return str(data["constraints"]), {
            name: [CorePin(*pin) for pin in found] for name, found in data["pins"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        pass
    constraints = ha_releases.package_constraints(release)
    pins = ha_releases.core_pins(release)
    kept = {name: [astuple(pin) for pin in found] for name, found in pins.items()}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"constraints": constraints, "pins": kept}), encoding="utf-8")
    temporary.replace(path)
    return constraints, pins


def check_release(release: str, requirements: Sequence[str], workdir: Path) -> ReleaseResult:
    """Resolve and compare ``requirements`` for one release (downloads its wheel once)."""
    constraints, pins = release_data(release)
    path = workdir / f"{release}-{CONSTRAINTS_NAME}"
    path.write_text(constraints, encoding="utf-8")
    resolved: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    # One at a time, as Home Assistant installs them.
    for requirement in requirements:
        outcome = resolve(requirement, path)
        if isinstance(outcome, str):
            unresolved[requirement] = outcome
        else:
            resolved.update(outcome)
    problems = conflicts(release, requirements, constraints, pins, resolved, unresolved)
    return ReleaseResult(release, resolved, problems)


def run(floor_version: str, requirements: Sequence[str]) -> int:
    """Check every release line from ``floor_version``; print a line per release and a total."""
    started = time.monotonic()
    releases = ha_releases.monthly_lines(floor_version, ha_releases.final_releases())
    failed = []
    with (
        tempfile.TemporaryDirectory(prefix="check_requirements-") as workdir,
        ThreadPoolExecutor(WORKERS) as pool,
    ):
        check = partial(check_release, requirements=requirements, workdir=Path(workdir))
        for result in pool.map(check, releases):
            if result.problems:
                failed.append(result.release)
                say(*result.problems)
            else:
                say(summary_line(result.release, requirements, result.resolved))
    elapsed = time.monotonic() - started
    outcome = f"{len(failed)} with conflicts ({', '.join(failed)})" if failed else "all ok"
    say(
        f"{', '.join(requirements) or 'no requirements'} on {len(releases)} Home Assistant "
        f"releases from {floor_version}: {outcome} in {elapsed:.1f} s"
    )
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m tools.check_requirements")
    parser.add_argument("--floor", help="oldest release to check (default: hacs.json's)")
    parser.add_argument(
        "--requirement",
        action="append",
        help="check this instead of the manifest's requirements (repeatable)",
    )
    args = parser.parse_args(argv)
    requirements = args.requirement or ha_releases.manifest_requirements()
    return run(args.floor or floor(), requirements)


if __name__ == "__main__":
    sys.exit(main())
