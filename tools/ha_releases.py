"""Home Assistant releases as the package index has them, with their pins, cached on disk.

Standard library only: ``scripts/setup`` runs this with a bare interpreter (no pip yet) to find
the constraints an environment must be installed under.

    python -m tools.ha_releases newest                  the newest final release
    python -m tools.ha_releases lines FLOOR             the first release of every monthly line
                                                        from FLOOR to the newest, then the newest
    python -m tools.ha_releases constraints VERSION     path of a file with the release's
                                                        package_constraints.txt plus the versions
                                                        its core integrations pin unanimously
    python -m tools.ha_releases manifest-requirements   this integration's requirements
    python -m tools.ha_releases pip-wheel               path of pip's newest wheel (bootstrap)

Wheels (about 60 MB each) are kept in ``~/.cache/vebus_marstek/ha-releases``; the release list
is fetched again when it is more than six hours old.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
import hashlib
import json
import os
from pathlib import Path
import re
import sys
import time
from typing import cast
import urllib.parse
import urllib.request
import zipfile

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "custom_components" / "vebus_marstek" / "manifest.json"
INDEX = "https://pypi.org/pypi"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vebus_marstek"
RELEASES = CACHE / "ha-releases"
LIST_MAX_AGE_S = 6 * 3600
FINAL_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;,#]+)\s*$")

type JSONObject = dict[str, object]


@dataclass(frozen=True, slots=True)
class CorePin:
    """A requirement a core integration pins exactly, as its manifest writes it."""

    integration: str
    requirement: str
    version: str


def normalise(name: str) -> str:
    """A distribution name as the package index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def version_key(version: str) -> tuple[int, int, int]:
    """Order of final releases; only versions FINAL_RELEASE matches are given."""
    match = FINAL_RELEASE.match(version)
    if match is None:
        raise ValueError(f"not a final release: {version}")
    year, month, patch = (int(part) for part in match.groups())
    return year, month, patch


def _fetch_json(url: str) -> JSONObject:
    with urllib.request.urlopen(url, timeout=60) as response:
        return cast(JSONObject, json.load(response))


def project(name: str) -> JSONObject:
    """The index's JSON for a project, cached for LIST_MAX_AGE_S."""
    path = RELEASES / f"{normalise(name)}.json"
    if not path.exists() or time.time() - path.stat().st_mtime > LIST_MAX_AGE_S:
        RELEASES.mkdir(parents=True, exist_ok=True)
        data = _fetch_json(f"{INDEX}/{name}/json")
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(path)
    return cast(JSONObject, json.loads(path.read_text(encoding="utf-8")))


def _files(name: str, version: str) -> list[JSONObject]:
    releases = cast(dict[str, list[JSONObject]], project(name)["releases"])
    return releases.get(version, [])


def final_releases() -> list[str]:
    """Home Assistant's final releases with a wheel on the index, oldest first."""
    releases = cast(dict[str, list[JSONObject]], project("homeassistant")["releases"])
    found = [
        version
        for version, files in releases.items()
        if FINAL_RELEASE.match(version)
        and any(str(file["filename"]).endswith(".whl") and not file.get("yanked") for file in files)
    ]
    return sorted(found, key=version_key)


def newest() -> str:
    """The newest final release."""
    return final_releases()[-1]


def monthly_lines(floor: str, releases: list[str]) -> list[str]:
    """The first release of each monthly line from ``floor``'s line on, and the newest one."""
    floor_key = version_key(floor)
    firsts: dict[tuple[int, int], str] = {}
    for version in releases:
        key = version_key(version)
        if key >= floor_key:
            firsts.setdefault(key[:2], version)
    chosen = sorted(firsts.values(), key=version_key)
    if releases and version_key(releases[-1]) >= floor_key and releases[-1] not in chosen:
        chosen.append(releases[-1])
    return chosen


def _download(url: str, sha256: str, path: Path) -> Path:
    if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=300) as response, temporary.open("wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
    actual = hashlib.sha256(temporary.read_bytes()).hexdigest()
    if actual != sha256:
        temporary.unlink()
        raise RuntimeError(f"{url}: sha256 {actual}, the index says {sha256}")
    temporary.replace(path)
    return path


def wheel(name: str, version: str) -> Path:
    """The project's wheel for ``version``, downloaded once and checked against the index."""
    for file in _files(name, version):
        filename = str(file["filename"])
        if filename.endswith(".whl") and not file.get("yanked"):
            digests = cast(dict[str, str], file["digests"])
            # An index may give file URLs relative to the JSON's own address (a mirror does).
            url = urllib.parse.urljoin(f"{INDEX}/{name}/json", str(file["url"]))
            return _download(url, digests["sha256"], RELEASES / filename)
    raise LookupError(f"{name} {version} has no wheel on the index")


def package_constraints(version: str) -> str:
    """The release's homeassistant/package_constraints.txt."""
    with zipfile.ZipFile(wheel("homeassistant", version)) as archive:
        return archive.read("homeassistant/package_constraints.txt").decode("utf-8")


def core_pins(version: str) -> dict[str, list[CorePin]]:
    """Every exact pin in the release's core integration manifests, by normalised name."""
    pins: dict[str, list[CorePin]] = defaultdict(list)
    with zipfile.ZipFile(wheel("homeassistant", version)) as archive:
        for member in archive.namelist():
            parts = member.split("/")
            if len(parts) != 4 or parts[:2] != ["homeassistant", "components"]:
                continue
            if parts[3] != "manifest.json":
                continue
            manifest = cast(JSONObject, json.loads(archive.read(member)))
            for requirement in cast(list[str], manifest.get("requirements", [])):
                if match := PIN.match(requirement):
                    pins[normalise(match[1])].append(CorePin(parts[2], requirement, match[2]))
    return dict(pins)


def unanimous_pins(pins: dict[str, list[CorePin]]) -> dict[str, str]:
    """Name -> version for the packages every pinning core integration pins alike."""
    return {
        name: found[0].version
        for name, found in pins.items()
        if len({pin.version for pin in found}) == 1
    }


def constraints_file(version: str) -> Path:
    """A pip constraints file: the release's own constraints, then its core integrations' pins
    for the packages the constraints leave open. Written once per release."""
    path = RELEASES / f"homeassistant-{version}-constraints.txt"
    if path.exists():
        return path
    own = package_constraints(version)
    constrained = {normalise(m[1]) for line in own.splitlines() if (m := PIN.match(line))}
    extra = [
        f"{name}=={pinned}"
        for name, pinned in sorted(unanimous_pins(core_pins(version)).items())
        if name not in constrained
    ]
    text = (
        f"# Home Assistant {version}: homeassistant/package_constraints.txt\n{own}\n"
        f"# Home Assistant {version}: pins its core integrations agree on\n"
        + "\n".join(extra)
        + "\n"
    )
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def manifest_requirements() -> list[str]:
    """This integration's requirements, as Home Assistant reads them from manifest.json."""
    manifest = cast(JSONObject, json.loads(MANIFEST.read_text(encoding="utf-8")))
    return cast(list[str], manifest.get("requirements", []))


def pip_wheel() -> Path:
    """pip's newest wheel, for a virtual environment made without ensurepip."""
    version = str(cast(JSONObject, project("pip")["info"])["version"])
    return wheel("pip", version)


def main(argv: list[str]) -> int:
    """The command line; see the module docstring."""
    match argv:
        case ["newest"]:
            print(newest())
        case ["lines", floor]:
            print("\n".join(monthly_lines(floor, final_releases())))
        case ["constraints", version]:
            print(constraints_file(version))
        case ["manifest-requirements"]:
            print("\n".join(manifest_requirements()))
        case ["pip-wheel"]:
            print(pip_wheel())
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
