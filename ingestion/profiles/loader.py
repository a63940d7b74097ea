"""Find and read source profiles: one YAML file per dataset in ``ingestion/profiles/``.

``load_profile`` takes ``demo``, a profile name or a SODA resource URL (``URL#name`` picks a
profile explicitly); :mod:`ingestion.profiles.validate` checks each document.

Environment variables read here: none.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from ingestion.profiles.model import SourceProfile
from ingestion.profiles.validate import (
    NAME_PATTERN,
    ProfileError,
    dataset_id_of,
    parse_profile,
)

PROFILE_DIR = Path(__file__).resolve().parent
DEMO = "demo"
DEMO_PROFILE = "buffalo"  # the synthetic replay city serves Buffalo's current layout


def display_path(name: str) -> str:
    """Where the profile ``name`` lives, as the README and messages spell it."""
    return f"ingestion/profiles/{name}.yml"


def profile_names() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yml"))


# libyaml's parser when present: the pure-Python one takes ~0.1 s per profile.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CACHE: dict[tuple[Path, float, str], SourceProfile] = {}


def read_profile(path: Path, where: str | None = None) -> SourceProfile:
    """Read and validate one profile file (its name must equal the file's stem)."""
    where = where or str(path)
    try:
        key = (path.resolve(), path.stat().st_mtime, where)
        if key in _CACHE:  # profiles are immutable; a changed file has a new mtime
            return _CACHE[key]
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise ProfileError(f"{where}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ProfileError(f"{where}: not valid YAML{at}: {problem}") from None
    _CACHE[key] = parse_profile(doc, where, expected_name=path.stem)
    return _CACHE[key]


def _named(name: str) -> SourceProfile:
    path = PROFILE_DIR / f"{name}.yml"
    if not path.is_file():
        raise ProfileError(
            f"no source profile named {name!r}: create {display_path(name)} (see README; "
            f"shipped: {', '.join(profile_names())})"
        )
    return read_profile(path, display_path(name))


def _by_url(url: str) -> SourceProfile:
    base, _, fragment = url.partition("#")
    dataset_id = dataset_id_of(base)
    if fragment:  # ``URL#profile`` names the profile explicitly (two layouts of one dataset)
        profile = _named(fragment)
        if profile.dataset_id != dataset_id:
            raise ProfileError(
                f"profile {fragment!r} is for dataset {profile.dataset_id}, not {dataset_id}"
            )
        return replace(profile, url=base)
    matches = [p for p in map(_named, profile_names()) if p.dataset_id == dataset_id]
    if len(matches) > 1:  # an older layout of the same dataset has no url of its own
        matches = [p for p in matches if p.url is not None] or matches
    if not matches:
        raise ProfileError(
            f"no source profile for dataset {dataset_id}: create "
            f"{display_path('<name>')} with dataset_id: {dataset_id} (see README)"
        )
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches)
        raise ProfileError(f"several profiles for dataset {dataset_id} ({names}): add #<name>")
    return replace(matches[0], url=base)


def load_profile(name_or_url: str) -> SourceProfile:
    """The profile for ``demo``, a profile name, or a SODA resource URL.

    ``demo`` is the Buffalo profile with no URL (the in-process replay API). A URL selects
    the profile whose dataset id it names (``URL#name`` picks one explicitly); the returned
    profile's ``url`` is that URL.

    Raises:
        ProfileError: one line naming the profile file to create or the key to fix.
    """
    value = name_or_url.strip()
    if value == DEMO:
        return replace(_named(DEMO_PROFILE), url=None)
    if value.startswith(("http://", "https://")):
        return _by_url(value)
    if NAME_PATTERN.match(value):
        return _named(value)
    raise ProfileError(
        f"{value!r} is not 'demo', a profile name ({', '.join(profile_names())}) or a SODA "
        "resource URL like https://data.example.gov/resource/abcd-1234.json"
    )
