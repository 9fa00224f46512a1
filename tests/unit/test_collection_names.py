"""Collection names and the table names they map to (localrag/collection.py)."""

from __future__ import annotations

import pytest

from localrag.collection import CollectionError, check_name, parse_registry, suffix, table_id


@pytest.mark.parametrize("name", ["default", "work", "Work-2024", "a.b_c", "x" * 64])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", " ", "a b", "../x", "-x", ".hidden", "x" * 65, "ü", "a/b", "a\nb"])
def test_bad_names_are_one_line_naming_the_value(name: str) -> None:
    with pytest.raises(CollectionError) as caught:
        check_name(name, "--collection")
    assert str(caught.value).startswith(f"--collection: {name!r} is not a valid collection name")
    assert "\n" not in str(caught.value).replace(repr(name), "")


def test_table_names_carry_the_id_and_default_keeps_the_old_names() -> None:
    assert suffix("") == "" and table_id("chunks") == ""
    assert table_id("chunks" + suffix("3fa9")) == "3fa9"
    assert table_id("graph_index" + suffix("3fa9")) == "3fa9"
    assert parse_registry(None) == {"default": ""}
