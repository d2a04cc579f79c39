"""Search and browsing over the stored catalogue (both databases)."""

from pathlib import Path

import pytest

from engine.catalogue.importer import CatalogueImportRefused
from engine.errors import NotFound
from tests.engine.catalogue.support import entry, save

SAMPLE = Path(__file__).resolve().parents[3] / "workflows" / "catalogue.csv"


@pytest.fixture
def sample(engine, db):
    with db.transaction() as session:
        engine.catalogue_import(session, SAMPLE)


def found(engine, db, query: str, **filters) -> list[str]:
    with db.transaction() as session:
        return [p.slug for p in engine.catalogue_search(session, query, limit=100, **filters).procedures]


@pytest.mark.parametrize("typed", ["ジュウミンヒョウ", "じゅうみんひょう", "ｼﾞｭｳﾐﾝﾋｮｳ", "住民票", "じゅうみん ひょう"])
def test_a_procedure_is_found_however_its_reading_is_typed(engine, db, sample, typed):
    assert found(engine, db, typed)[0] == "juminhyo-copy"


def test_name_prefix_ranks_before_name_before_keywords_before_the_rest(engine, db):
    save(engine, db,
         entry("other", "市民課の案内", summary_ja="転入のあとに"),
         entry("keyword", "住所の届出", keywords=["転入"]),
         entry("inside", "国外からの転入届"),
         entry("prefix", "転入届"))
    assert found(engine, db, "テンニュウ") == []  # no readings given: kanji only
    assert found(engine, db, "転入") == ["prefix", "inside", "keyword", "other"]


def test_long_vowel_marks_middle_dots_and_width_are_forgiven(engine, db):
    save(engine, db, entry("card", "マイナンバーカードの交付申請", reading="まいなんばーかーどのこうふしんせい"),
         entry("etax", "所得税の確定申告", keywords=["e-Tax"]))
    assert found(engine, db, "ﾏｲﾅﾝﾊﾞｰ・ｶｰﾄﾞ") == ["card"]
    assert found(engine, db, "まいなんばかど") == ["card"]
    assert found(engine, db, "ＥＴＡＸ") == ["etax"]


def test_several_words_match_each_anywhere(engine, db, sample):
    assert found(engine, db, "国民健康保険 脱退") == ["national-health-insurance-leave"]
    assert found(engine, db, "いぬ とうろく")[0] == "dog-registration"


def test_filters_browse_by_category_life_event_and_department(engine, db, sample):
    births = found(engine, db, "", life_event="出産")
    assert "birth" in births and "moving-out" not in births
    assert set(found(engine, db, "", category="税金")) >= {"resident-tax-certificate", "e-tax-return"}
    assert found(engine, db, "届", department="上下水道局 お客さまセンター") == ["water-stop", "water-start"]
    with db.transaction() as session:
        facets = engine.catalogue_facets(session)
    assert {f.value: f.count for f in facets["life_event"]}["出産"] == len(births)


def test_like_wildcards_in_a_query_are_plain_characters(engine, db, sample):
    assert found(engine, db, "%") == [] and found(engine, db, "_") == []


def test_paging_counts_everything_and_returns_a_page(engine, db, sample):
    with db.transaction() as session:
        first = engine.catalogue_search(session, "", category="戸籍・住民票", limit=3)
        second = engine.catalogue_search(session, "", category="戸籍・住民票", limit=3, offset=3)
    assert first.total == second.total >= 6
    assert len(first.procedures) == 3 and not {p.slug for p in first.procedures} & {p.slug for p in second.procedures}


def test_import_updates_by_slug_and_refuses_a_bad_file_whole(engine, db, sample, tmp_path):
    path = tmp_path / "update.csv"
    path.write_text("slug,name_ja,category,department,identity_level,channel,counter,life_events\n"
                    "birth,出生届（更新）,戸籍・住民票,市民課,none,counter,本庁舎,出産;子育て\n"
                    "new-one,新しい手続,戸籍・住民票,市民課,none,counter,本庁舎,\n", encoding="utf-8")
    with db.transaction() as session:
        result = engine.catalogue_import(session, path)
    assert [p.slug for p in result.saved] == ["birth", "new-one"]
    assert found(engine, db, "", life_event="子育て") == ["birth"]
    path.write_text(path.read_text(encoding="utf-8") + "broken,壊れた,,市民課,none,counter,本庁舎,\n",
                    encoding="utf-8")
    with db.transaction() as session, pytest.raises(CatalogueImportRefused, match="row 4, column category"):
        engine.catalogue_import(session, path.with_name("update.csv"))
    with db.transaction() as session:
        assert engine.catalogue_procedure(session, "birth").name_ja == "出生届（更新）"


def test_procedure_page_data_and_related_procedures(engine, db, sample):
    with db.transaction() as session:
        procedure = engine.catalogue_procedure(session, "birth")
        related = [p.slug for p in engine.catalogue_related(session, procedure)]
        assert related[:4] == ["child-allowance", "child-medical", "national-health-insurance-join",
                               "birth-lump-sum"]
        assert "birth" not in related and len(related) == 6
        with pytest.raises(NotFound):
            engine.catalogue_procedure(session, "no-such-procedure")
        dog = engine.catalogue_procedure(session, "dog-registration")
        assert not engine.catalogue_is_deployed(session, dog)


def test_another_process_sees_an_import_at_its_next_search(engine, db, settings, sample, tmp_path):
    from engine.facade import Engine

    other = Engine(settings)  # another process of the same instance: its own in-memory columns
    other_db = other.database()
    try:
        with other_db.transaction() as session:
            assert other.catalogue_search(session, "ペットホテル").total == 0
        path = tmp_path / "one.csv"
        path.write_text("slug,name_ja,reading,category,department,identity_level,channel,counter\n"
                        "pet-hotel,ペットホテルの届出,ぺっとほてるのとどけで,くらし・手続き,生活衛生課,none,counter,本庁舎\n",
                        encoding="utf-8")
        with db.transaction() as session:
            engine.catalogue_import(session, path)
        with other_db.transaction() as session:
            assert [p.slug for p in other.catalogue_search(session, "ぺっとほてる").procedures] == ["pet-hotel"]
            facets = other.catalogue_facets(session)
        assert {f.value: f.count for f in facets["department"]}["生活衛生課"] == 1
    finally:
        other_db.dispose()
