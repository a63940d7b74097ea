"""Issue 16 P3 (d37): dbt's Jinja templates are compiled once per project, not once per process.

``orchestration.dbt_jinja.compiled_templates`` (around every ``run_dbt``) serves dbt's template
compilations from a file of code objects: a later process renders the same SQL without lexing,
parsing or generating any template it has seen; a changed, new or broken template compiles as
without the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import dbt
from dbt_common.clients import jinja as dbt_jinja

from orchestration import dbt_jinja as cache

MACRO = "{% set x = 41 %}{% for i in [1] %}select {{ x + i }}{% endfor %} as answer"
SUM = "{{ 41 + 1 }}"


@pytest.fixture()
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The sources Jinja parses (what a compilation from source starts with)."""
    seen: list[str] = []
    for cls in (jinja2.Environment, dbt_jinja.MacroFuzzEnvironment):  # dbt's has its own parser
        original = vars(cls)["_parse"]

        def counting(
            self: Any, source: str, name: Any, filename: Any, _parse: Any = original
        ) -> Any:
            seen.append(source)
            return _parse(self, source, name, filename)

        monkeypatch.setattr(cls, "_parse", counting)
    yield seen


def _render(source: str, native: bool = False) -> Any:
    template = dbt_jinja.get_template(source, {}, native=native)
    return dbt_jinja.render_template(template, {})


def test_a_later_process_compiles_nothing_it_has_seen(tmp_path: Path, parses: list[str]) -> None:
    with cache.compiled_templates(tmp_path):
        first = _render(MACRO)
        assert _render(SUM) == "42"
    assert parses == [MACRO, SUM] and cache.cache_path(tmp_path).is_file()
    with cache.compiled_templates(tmp_path):  # a new process reads the file again
        assert _render(MACRO) == first == "select 42 as answer"
        assert _render(SUM) == "42"
        assert str(_render(SUM, native=True)) == "42"  # dbt's native environment: its own code
        assert _render(MACRO.replace("41", "1")) == "select 2 as answer"  # a changed template
    assert parses == [MACRO, SUM, SUM, MACRO.replace("41", "1")]
    # Outside the block dbt compiles as it always did.
    assert "compile" not in vars(dbt_jinja.MacroFuzzEnvironment)
    assert _render(MACRO) == first and len(parses) == 5


def test_a_broken_template_or_cache_file_changes_nothing(tmp_path: Path) -> None:
    broken = "{% if x %}never closed"
    with pytest.raises(Exception) as without:
        _render(broken)
    cache.cache_path(tmp_path).parent.mkdir(parents=True)
    cache.cache_path(tmp_path).write_bytes(b"not marshal data")
    with cache.compiled_templates(tmp_path):
        with pytest.raises(type(without.value), match="endif"):
            _render(broken)
        assert _render(MACRO) == "select 42 as answer"
    # The unreadable file was replaced by one holding only what compiled.
    assert len(cache._read(cache.cache_path(tmp_path))) == 1


def test_a_build_in_a_new_process_parses_no_template(
    built_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parses: list[str],
) -> None:
    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path / "jinja")
    # dbt keeps the templates of a process in memory: each build starts as a new process would.
    monkeypatch.setattr(dbt_jinja.template_cache, "file_cache", {})
    first = dbt(built_copy, select=["dim_date", "dim_incident_type"])
    assert first.success, first.failing_tests + first.failing_nodes
    compiled = len(parses)
    assert compiled > 20 and cache.cache_path(tmp_path).is_file()
    monkeypatch.setattr(dbt_jinja.template_cache, "file_cache", {})
    parses.clear()
    second = dbt(built_copy, select=["dim_date", "dim_incident_type"])
    assert second.success, second.failing_tests + second.failing_nodes
    assert parses == []
    assert sorted((n.name, n.status) for n in second.nodes) == sorted(
        (n.name, n.status) for n in first.nodes
    )
