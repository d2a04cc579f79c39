"""Import files: every problem named by row and column, nothing written unless all rows are good."""

from pathlib import Path

import pytest

from engine.catalogue.importer import CatalogueImportRefused, read_import_file

SAMPLE = Path(__file__).resolve().parents[3] / "workflows" / "catalogue.csv"
HEADER = "slug,name_ja,category,department,identity_level,channel,counter,external_url,keywords\n"


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_file_reads_and_mixes_every_channel():
    entries = read_import_file(SAMPLE)
    assert len(entries) >= 40
    assert {e.channel for e in entries} == {"online", "elsewhere", "counter"}
    moving_in = next(e for e in entries if e.slug == "moving-in")
    assert moving_in.life_events == ["引越し"] and "転居" in moving_in.keywords


def test_list_columns_split_on_semicolons_of_either_width(tmp_path):
    path = write(tmp_path, "c.csv", HEADER + "a,転入届,戸籍,市民課,none,counter,本庁舎,,転入；引越し; 住所 \n")
    [entry] = read_import_file(path)
    assert entry.keywords == ["転入", "引越し", "住所"]


def test_every_bad_row_is_named_with_its_column(tmp_path):
    path = write(tmp_path, "c.csv", HEADER
                 + "good,転入届,戸籍,市民課,none,counter,本庁舎,,\n"
                 + "Bad Slug,転出届,戸籍,市民課,none,counter,本庁舎,,\n"
                 + "c,婚姻届,戸籍,市民課,passport,elsewhere,,ftp://x,\n"
                 + "good,同じ,戸籍,市民課,none,counter,本庁舎,,\n")
    with pytest.raises(CatalogueImportRefused) as info:
        read_import_file(path)
    problems = info.value.problems
    assert "c.csv: row 3, column slug: 'Bad Slug' is not a slug" in problems[0]
    assert any("row 4, column identity_level: 'passport'" in p for p in problems)
    assert any("row 4, column external_url: 'ftp://x' must start with https://" in p for p in problems)
    assert any("row 5, column slug: 'good' is already used in row 2" in p for p in problems)
    assert "nothing was imported" in str(info.value)


def test_missing_required_cells_and_unknown_columns(tmp_path):
    path = write(tmp_path, "c.csv", HEADER + ",転入届,戸籍,,none,online,,,\n")
    with pytest.raises(CatalogueImportRefused) as info:
        read_import_file(path)
    text = str(info.value)
    assert "row 2, column slug: is required" in text
    assert "row 2, column department: is required" in text
    assert "row 2, column definition_key: is required when channel is online" in text
    unknown = write(tmp_path, "u.csv", "slug,name,colour\n")
    with pytest.raises(CatalogueImportRefused, match=r"u.csv: row 1: unknown column\(s\) 'name', 'colour'"):
        read_import_file(unknown)


def test_toml_files_use_procedure_tables(tmp_path):
    path = write(tmp_path, "c.toml", """
[[procedure]]
slug = "moving-in"
name_ja = "転入届"
category = "戸籍・住民票"
department = "市民課"
identity_level = "none"
channel = "counter"
counter = "本庁舎"
life_events = ["引越し"]

[[procedure]]
slug = "pension"
name_ja = "国民年金"
category = "保険"
department = "保険年金課"
identity_level = "jpki"
channel = "elsewhere"
""")
    with pytest.raises(CatalogueImportRefused) as info:
        read_import_file(path)
    assert info.value.problems == ["c.toml: procedure 2, column external_url: is required when channel is "
                                   "elsewhere (where the resident applies)"]
    path.write_text(path.read_text(encoding="utf-8").replace('channel = "elsewhere"', 'channel = "elsewhere"\n'
                    'external_url = "https://www.nenkin.go.jp/"'), encoding="utf-8")
    assert [e.slug for e in read_import_file(path)] == ["moving-in", "pension"]


def test_unreadable_files_are_refused_clearly(tmp_path):
    with pytest.raises(CatalogueImportRefused, match="no such file"):
        read_import_file(tmp_path / "missing.csv")
    with pytest.raises(CatalogueImportRefused, match="give a .csv or .toml"):
        read_import_file(write(tmp_path, "c.xlsx", "x"))
    latin = tmp_path / "c.csv"
    latin.write_bytes("slug\n転入".encode("shift_jis"))
    with pytest.raises(CatalogueImportRefused, match="save the file as UTF-8"):
        read_import_file(latin)
    with pytest.raises(CatalogueImportRefused, match="cannot be read as TOML"):
        read_import_file(write(tmp_path, "c.toml", "[[procedure]\n"))
