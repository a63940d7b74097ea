"""dbt's Jinja templates compiled once per project, not once per process.

dbt compiles every macro and node template it renders from source (Jinja's lexer, parser and
code generator, then Python's ``compile``) in each process; its template cache lives in memory
only. That is ~1 CPU s of an incremental build at 1M (d37: 12 % of the Python time of the build
step), paid again by every ``blotter`` command and test process. Jinja's own bytecode cache only
serves templates loaded by name; dbt builds its templates from strings.

:func:`compiled_templates` keeps the code objects (``marshal``, as Jinja's ``BytecodeCache``
does) in one file per Python, Jinja and dbt-common version, keyed by a hash of the template
source and of everything its compiled code depends on (environment class, code generator,
extensions, syntax options, name, ``defer_init``). A template that fails to compile is never
cached (the error is raised as before); an unreadable cache file is ignored; with dbt's macro
debugging on (the source must reach ``linecache``) nothing is cached. Writes are atomic.

Environment variables read here: none (dbt's ``DBT_MACRO_DEBUGGING`` through dbt-common).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import marshal
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

from orchestration.logs import get_logger

# Below the project's dbt target directory, next to dbt's own saved parse.
CACHE_DIR = Path("target") / "blotter_jinja"
# Entries kept from earlier runs: past this many the file keeps only what one run used (changed
# macros leave entries behind; the project has ~630 macros).
MAX_ENTRIES = 5000
log = get_logger("dbt")

_lock = threading.Lock()


@functools.cache
def _versions() -> str:
    names = ("jinja2", "dbt-common", "dbt-core")
    versions = [importlib.metadata.version(n) for n in names]
    return hashlib.sha256(repr((sys.version, versions)).encode()).hexdigest()[:16]


def cache_path(project_dir: Path) -> Path:
    """The cache file of this Python, Jinja and dbt in ``project_dir``."""
    return project_dir / CACHE_DIR / f"templates-{_versions()}.marshal"


def _key(env: Any, source: str, name: str | None, defer_init: bool) -> str:
    """What the compiled code of ``source`` depends on, hashed."""
    cls = type(env)
    syntax = (
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        repr(env.autoescape),
    )
    parts = (
        f"{cls.__module__}.{cls.__qualname__}",
        f"{env.code_generator_class.__module__}.{env.code_generator_class.__qualname__}",
        sorted(env.extensions),
        syntax,
        name,
        defer_init,
        source,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _read(path: Path) -> dict[str, bytes]:
    try:
        entries = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _write(path: Path, used: dict[str, bytes]) -> None:
    """Merge ``used`` into the file (another process may have written it meanwhile)."""
    entries = _read(path)
    if len(entries) + len(used) > MAX_ENTRIES:
        entries = {}
    entries.update(used)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".templates-")
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps(entries))
        os.chmod(tmp, 0o644)  # as a file dbt writes; mkstemp's 0600 would hide it from others
        os.replace(tmp, path)
    except OSError as exc:
        log.info(f"dbt's compiled templates were not saved ({exc})")


@contextmanager
def compiled_templates(project_dir: Path) -> Iterator[None]:
    """Serve dbt's template compilations from the project's cache file while the block runs."""
    from dbt_common.clients import jinja as dbt_jinja

    env_cls = dbt_jinja.MacroFuzzEnvironment
    path = cache_path(project_dir)
    known = _read(path)
    used: dict[str, bytes] = {}
    added = False
    own = "compile" in vars(env_cls)  # else inherited from jinja2.Environment
    original: Any = env_cls.compile

    def cached_compile(
        self: Any,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if raw or filename is not None or not isinstance(source, str) or dbt_jinja.MACRO_DEBUGGING:
            return original(self, source, name, filename, raw, defer_init)
        nonlocal added
        key = _key(self, source, name, defer_init)
        data = known.get(key)
        if data is not None:
            try:
                code = marshal.loads(data)
                if isinstance(code, CodeType):
                    used[key] = data
                    return code
            except (EOFError, ValueError, TypeError):
                pass
        code = original(self, source, name, filename, raw, defer_init)
        data = marshal.dumps(code)
        known[key] = used[key] = data
        added = True
        return code

    with _lock:
        env_cls.compile = cached_compile  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _lock:
            if own:
                env_cls.compile = original  # type: ignore[method-assign]
            else:
                del env_cls.compile
        if added:
            _write(path, used)
