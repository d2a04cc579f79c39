"""A bundle's ``[catalogue]`` section: checked when the bundle is read, applied on deploy."""

import shutil
from pathlib import Path

import pytest

from engine.errors import DeployRefused

DOG = Path(__file__).resolve().parents[3] / "workflows" / "dog-registration"
SECTION = """
[catalogue]
reading = "いぬのとうろくしんせい"
keywords = ["犬", "鑑札"]
life_events = ["ペット"]
identity_level = "account"
documents = ["狂犬病予防注射済証"]
fees = ["新規登録 3,000円"]
summary_ja = "犬を飼い始めたときの登録です。"
"""


def bundle(tmp_path, section: str) -> Path:
    target = tmp_path / "dog"
    shutil.copytree(DOG, target)
    manifest = target / "procedure.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + section, encoding="utf-8")
    return target


def test_deploying_a_bundle_with_a_section_creates_and_updates_its_entry(engine, db, tmp_path):
    path = bundle(tmp_path, SECTION)
    with db.transaction() as session:
        engine.deploy(session, path, actor="admin")
    with db.transaction() as session:
        entry = engine.catalogue_procedure(session, "dog-registration")
        assert (entry.name_ja, entry.name_en, entry.category, entry.department) == (
            "犬の登録申請", "Dog registration", "くらし・手続き", "保健所 生活衛生課")
        assert (entry.channel, entry.definition_key, entry.source) == ("online", "dog-registration", "manifest")
        assert engine.catalogue_is_deployed(session, entry)
        assert [p.slug for p in engine.catalogue_search(session, "イヌノトウロク").procedures] == ["dog-registration"]
    manifest = path / "procedure.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('["犬", "鑑札"]', '["犬", "畜犬"]'),
                        encoding="utf-8")
    with db.transaction() as session:
        assert engine.deploy(session, path).definition.version == 2
    with db.transaction() as session:
        assert engine.catalogue_procedure(session, "dog-registration").keywords == ["犬", "畜犬"]


def test_an_import_keeps_what_a_deployed_manifest_says(engine, db, tmp_path):
    with db.transaction() as session:
        engine.deploy(session, bundle(tmp_path, SECTION))
    csv = tmp_path / "c.csv"
    csv.write_text("slug,name_ja,category,department,identity_level,channel,counter\n"
                   "dog-registration,上書き,x,y,none,counter,本庁舎\n"
                   "birth,出生届,戸籍,市民課,none,counter,本庁舎\n", encoding="utf-8")
    with db.transaction() as session:
        result = engine.catalogue_import(session, csv)
    assert [p.slug for p in result.saved] == ["birth"] and result.kept == ["dog-registration"]
    with db.transaction() as session:
        assert engine.catalogue_procedure(session, "dog-registration").name_ja == "犬の登録申請"


def test_a_bad_section_refuses_the_deploy_naming_the_manifest_and_key(engine, db, tmp_path):
    bad = SECTION.replace('identity_level = "account"', 'identity_level = "passport"\nchannel = "counter"\n'
                          'colour = "blue"')
    with db.transaction() as session, pytest.raises(DeployRefused) as info:
        engine.deploy(session, bundle(tmp_path, bad))
    problems = {p.element_id: p for p in info.value.problems}
    assert set(problems) == {"catalogue.channel", "catalogue.identity_level", "catalogue.colour"}
    assert all(p.file == "procedure.toml" for p in problems.values())
    assert "'passport' is not one of none, account, jpki" in problems["catalogue.identity_level"].message
    assert "remove channel from [catalogue]" in problems["catalogue.channel"].fix
    with db.transaction() as session:
        assert engine.catalogue_entries(session) == [] and engine.definitions(session) == []


def test_a_section_that_is_not_a_table_or_lacks_a_name_is_refused(engine, db, tmp_path):
    not_a_table = bundle(tmp_path / "a", "")
    manifest = not_a_table / "procedure.toml"
    manifest.write_text("catalogue = 'yes'\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    with db.transaction() as session, pytest.raises(DeployRefused) as info:
        engine.deploy(session, not_a_table)
    assert [p.message for p in info.value.problems] == ["[catalogue] must be a table"]
    no_title = bundle(tmp_path / "b", SECTION)
    manifest = no_title / "procedure.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('ja = "犬の登録申請"', ""), encoding="utf-8")
    with db.transaction() as session, pytest.raises(DeployRefused) as info:
        engine.deploy(session, no_title)
    [problem] = info.value.problems
    assert problem.element_id == "catalogue.name_ja" and "[title] ja" in problem.fix


def test_a_bundle_without_a_section_leaves_the_catalogue_alone(engine, db):
    with db.transaction() as session:
        engine.deploy(session, DOG)
    with db.transaction() as session:
        assert engine.catalogue_entries(session) == []
