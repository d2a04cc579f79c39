"""scripts/translations.py: one Japanese per msgid — two part files that disagree stop the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webui import scripts_translations


def part(folder: Path, name: str, entries: dict[str, str]) -> None:
    body = "".join(f'\nmsgid "{msgid}"\nmsgstr "{text}"\n' for msgid, text in entries.items())
    (folder / name).write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n' + body,
                               encoding="utf-8")


def test_two_parts_translating_one_msgid_differently_are_refused_with_both_places(tmp_path):
    part(tmp_path, "api.po", {"Name": "名前", "Token": "トークン"})
    part(tmp_path, "form_builder.po", {"Name": "項目名", "Token": "トークン"})
    with pytest.raises(scripts_translations.ConflictingTranslations) as refused:
        scripts_translations.translations(tmp_path)
    message = str(refused.value)
    assert "'Name' is translated differently" in message
    assert "api.po:5: '名前'" in message and "form_builder.po:5: '項目名'" in message
    assert "Token" not in message  # the same translation twice is no clash
    assert [msgid for msgid, _places in refused.value.clashes] == ["Name"]


def test_parts_that_agree_are_merged(tmp_path):
    part(tmp_path, "a.po", {"Name": "名前", "Status": "状態"})
    part(tmp_path, "b.po", {"Status": "状態", "Field name": "項目名"})
    assert scripts_translations.translations(tmp_path) == {"Name": "名前", "Status": "状態", "Field name": "項目名"}


def test_the_real_parts_have_no_clash_and_the_form_builder_says_komokumei():
    known = scripts_translations.translations()
    assert known["Field name"] == "項目名" and known["Name"] == "名前"


def test_the_command_exits_2_on_a_clash(tmp_path, monkeypatch, capsys):
    parts = Path(__file__).parents[2] / "webui" / "translations" / "ja" / "parts"
    for source in parts.glob("*.po"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    part(tmp_path, "zz_clash.po", {"Name": "氏名"})
    monkeypatch.setattr(scripts_translations.module, "PARTS", tmp_path)
    assert scripts_translations.module.main(["--check"]) == 2
    assert scripts_translations.module.main([]) == 2  # the build stops too: nothing is written
    err = capsys.readouterr().err
    assert "'Name' is translated differently" in err and "zz_clash.po" in err and "api.po" in err
