"""``madoguchi catalogue import|list``."""

import json
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[3] / "workflows" / "catalogue.csv"


def test_import_then_list(cli):
    result = cli("catalogue", "import", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert "procedure(s) imported from catalogue.csv" in result.output
    listed = cli("catalogue", "list", "--json")
    rows = json.loads(listed.output)
    assert len(rows) >= 40 and {r["channel"] for r in rows} == {"online", "elsewhere", "counter"}
    text = cli("catalogue", "list").output
    assert "moving-in" in text and "転入届" in text


def test_a_bad_file_exits_2_naming_row_and_column_and_imports_nothing(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("slug,name_ja,category,department,identity_level,channel\n"
                    "ok,転入届,戸籍,市民課,none,online\n", encoding="utf-8")
    result = cli("catalogue", "import", str(path))
    assert result.exit_code == 2
    assert "bad.csv: row 2, column definition_key: is required when channel is online" in result.output
    assert cli("catalogue", "list").output.strip() == "0 procedure(s)"
