"""Put the integration into a configuration directory the way HACS (the Marketplace) does.

HACS downloads the GitHub archive of a commit, which is ``git archive`` of it, and copies the
integration's directory from it into ``<config>/custom_components/<domain>``, following
``hacs.json``: ``content_in_root`` says whether the integration is the repository's root, and
``zip_release`` would take a release asset instead (the Marketplace refuses that for catalog
installs, and this repository does not use it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
import shutil
import subprocess
import tarfile
import tempfile

REPO = Path(__file__).resolve().parent.parent


def archived_commit(repo: Path = REPO) -> str:
    """The commit to archive: HEAD, or a commit of the work tree's tracked changes on top of it
    (``git stash create`` makes one without touching the work tree or the stash list)."""
    stashed = _git(repo, "stash", "create").strip()
    return stashed or _git(repo, "rev-parse", "HEAD").strip()


def install_like_hacs(config_dir: Path, repo: Path = REPO) -> Path:
    """The integration's files, from an archive of the repository, under custom_components/.

    Returns the installed directory. Nothing is linked: it is a copy, as a user has it.
    """
    settings = json.loads((repo / "hacs.json").read_text(encoding="utf-8"))
    if settings.get("zip_release"):
        raise NotImplementedError("release zips are not how this repository is installed")
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", archived_commit(repo)],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(scratch, filter="data")
        root = Path(scratch)
        if settings.get("content_in_root"):
            source = root
            domain = str(json.loads((root / "manifest.json").read_text(encoding="utf-8"))["domain"])
        else:
            # HACS manages the first (and here only) directory under custom_components/.
            source = sorted(p for p in (root / "custom_components").iterdir() if p.is_dir())[0]
            domain = source.name
        target = config_dir / "custom_components" / domain
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} exists; HACS installs into a clean place")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target)
    return target


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout
