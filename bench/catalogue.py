"""The portal's catalogue search at city scale (part of ``make bench``): ``catalogue_search_ms_p95``.

3,000 procedures (a city has ~2,700) are made from subject × action × variant, each with its
kana reading, keywords, category, life events and department, and written through the
engine's own save path (which folds the search columns). Then residents' queries are timed as
the portal runs them — a new transaction each, the first page of 20 with its total: readings
typed in katakana (full and half width), kanji, several words, a query that matches nothing,
and browsing by life event and category. The portal page (``GET /?q=…``) is timed too.
"""

from __future__ import annotations

import itertools
import random
import time
from urllib.parse import quote

from engine.catalogue.entry import CatalogueEntry
from engine.facade import Engine
from engine.store.database import Database

SUBJECTS = [
    ("住民票", "じゅうみんひょう", "戸籍・住民票", "市民課", "引越し"),
    ("戸籍", "こせき", "戸籍・住民票", "市民課", "結婚"),
    ("印鑑登録", "いんかんとうろく", "戸籍・住民票", "市民課", "就職・退職"),
    ("マイナンバーカード", "まいなんばーかーど", "戸籍・住民票", "市民課", "引越し"),
    ("国民健康保険", "こくみんけんこうほけん", "健康・保険", "保険年金課", "就職・退職"),
    ("国民年金", "こくみんねんきん", "健康・保険", "保険年金課", "就職・退職"),
    ("後期高齢者医療", "こうきこうれいしゃいりょう", "健康・保険", "保険年金課", "介護"),
    ("介護保険", "かいごほけん", "福祉・介護", "介護保険課", "介護"),
    ("障害福祉サービス", "しょうがいふくしさーびす", "福祉・介護", "障害福祉課", "介護"),
    ("児童手当", "じどうてあて", "子育て・教育", "こども家庭課", "出産"),
    ("児童扶養手当", "じどうふようてあて", "子育て・教育", "こども家庭課", "出産"),
    ("保育所", "ほいくしょ", "子育て・教育", "保育課", "出産"),
    ("放課後児童クラブ", "ほうかごじどうくらぶ", "子育て・教育", "保育課", "就職・退職"),
    ("就学援助", "しゅうがくえんじょ", "子育て・教育", "学校教育課", "引越し"),
    ("市民税", "しみんぜい", "税金", "市民税課", "就職・退職"),
    ("固定資産税", "こていしさんぜい", "税金", "資産税課", "引越し"),
    ("軽自動車税", "けいじどうしゃぜい", "税金", "市民税課", "引越し"),
    ("犬の登録", "いぬのとうろく", "くらし・手続き", "生活衛生課", "ペット"),
    ("粗大ごみ", "そだいごみ", "ごみ・環境", "環境政策課", "引越し"),
    ("水道", "すいどう", "上下水道", "お客さまセンター", "引越し"),
    ("下水道", "げすいどう", "上下水道", "下水道課", "引越し"),
    ("市営住宅", "しえいじゅうたく", "住まい", "住宅政策課", "結婚"),
    ("道路占用", "どうろせんよう", "事業者", "道路管理課", ""),
    ("屋外広告物", "おくがいこうこくぶつ", "事業者", "都市計画課", ""),
    ("建築確認", "けんちくかくにん", "住まい", "建築指導課", ""),
    ("農地転用", "のうちてんよう", "事業者", "農業委員会", ""),
    ("飲食店営業", "いんしょくてんえいぎょう", "事業者", "生活衛生課", "就職・退職"),
    ("補助金", "ほじょきん", "事業者", "産業振興課", ""),
    ("公共施設", "こうきょうしせつ", "くらし・手続き", "施設管理課", ""),
    ("り災証明", "りさいしょうめい", "防災・安全", "危機管理課", ""),
    ("予防接種", "よぼうせっしゅ", "健康・保険", "健康づくり課", "出産"),
    ("がん検診", "がんけんしん", "健康・保険", "健康づくり課", ""),
    ("墓地", "ぼち", "くらし・手続き", "市民課", "おくやみ"),
    ("葬祭費", "そうさいひ", "健康・保険", "保険年金課", "おくやみ"),
    ("選挙", "せんきょ", "くらし・手続き", "選挙管理委員会", ""),
    ("情報公開", "じょうほうこうかい", "くらし・手続き", "総務課", ""),
    ("自転車駐車場", "じてんしゃちゅうしゃじょう", "くらし・手続き", "交通政策課", "就職・退職"),
    ("防犯灯", "ぼうはんとう", "防災・安全", "危機管理課", ""),
    ("生活保護", "せいかつほご", "福祉・介護", "生活福祉課", ""),
    ("ひとり親家庭", "ひとりおやかてい", "子育て・教育", "こども家庭課", "結婚"),
]
ACTIONS = [
    ("の新規申請", "のしんきしんせい"), ("の変更届", "のへんこうとどけ"), ("の再交付申請", "のさいこうふしんせい"),
    ("の証明書交付", "のしょうめいしょこうふ"), ("の廃止届", "のはいしとどけ"), ("の減免申請", "のげんめんしんせい"),
    ("の住所変更", "のじゅうしょへんこう"), ("の名義変更", "のめいぎへんこう"), ("の相談予約", "のそうだんよやく"),
    ("の利用申込み", "のりようもうしこみ"), ("の現況届", "のげんきょうとどけ"), ("の還付請求", "のかんぷせいきゅう"),
    ("の口座変更", "のこうざへんこう"), ("の閲覧請求", "のえつらんせいきゅう"), ("の取消し申出", "のとりけしもうしで"),
]
VARIANTS = [("", ""), ("（郵送）", "ゆうそう"), ("（代理人）", "だいりにん"), ("（法人）", "ほうじん"),
            ("（窓口予約）", "まどぐちよやく")]
CHANNELS = (("online", "none"), ("elsewhere", "jpki"), ("counter", "account"))

#: What residents type (each timed in turn).
QUERIES = [
    ("ジュウミンヒョウ", {}), ("ｼﾞｭｳﾐﾝﾋｮｳ", {}), ("住民票", {}), ("こくみんけんこうほけん", {}),
    ("介護保険 変更", {}), ("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ", {}), ("証明書", {}), ("申請", {}), ("存在しない手続", {}),
    ("", {"life_event": "引越し"}), ("", {"category": "税金"}), ("届", {"department": "市民課"}),
]


def procedures(count: int) -> list[CatalogueEntry]:
    rng = random.Random(2700)
    made = []
    for n, ((subject, reading, category, department, event), (action, action_reading),
            (variant, variant_reading)) in enumerate(itertools.product(SUBJECTS, ACTIONS, VARIANTS)):
        if n >= count:
            break
        channel, identity = CHANNELS[n % len(CHANNELS)]
        made.append(CatalogueEntry(
            slug=f"bench-{n:05d}", name_ja=subject + action + variant, reading=reading + action_reading
            + variant_reading, category=category, department=department, identity_level=identity, channel=channel,
            definition_key="bench" if channel == "online" else None,
            external_url="https://app.oss.myna.go.jp/" if channel == "elsewhere" else None,
            counter="市役所本庁舎" if channel == "counter" else None,
            name_en=f"Procedure {n}", summary_ja=f"{subject}{action}の手続です。{department}が担当します。",
            keywords=rng.sample(["届出", "証明", "手当", "申込", "変更", "予約", "郵送", "オンライン"], 3),
            life_events=[event] if event else [], documents=["本人確認書類"], fees=["無料"]))
    if len(made) < count:
        raise SystemExit(f"--catalogue-procedures at most {len(made)}")
    return made


def fill(engine: Engine, database: Database, count: int) -> float:
    """Write ``count`` procedures through the engine; returns the seconds it took."""
    entries = procedures(count)
    started = time.perf_counter()
    with database.transaction() as session:
        engine.catalogue_save(session, entries, source="import", actor="bench")
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE catalogue_procedures, catalogue_life_events")
    return time.perf_counter() - started


def time_search(engine: Engine, database: Database, *, repeats: int, warmup: int) -> list[float]:
    """Milliseconds per search (every query of QUERIES, ``repeats`` times)."""
    samples = []
    for n in range(warmup + repeats):
        for query, filters in QUERIES:
            with database.transaction() as session:
                started = time.perf_counter()
                result = engine.catalogue_search(session, query, limit=20, **filters)
                elapsed = time.perf_counter() - started
            if query == "ジュウミンヒョウ":
                assert result.total > 0 and result.procedures[0].name_ja.startswith("住民票"), "search is broken"
            if n >= warmup:
                samples.append(elapsed * 1000)
    return samples


def time_search_page(engine: Engine, *, repeats: int, warmup: int) -> list[float]:
    """Milliseconds per portal search page (the whole request in this process, no network)."""
    from webui import create_app

    client = create_app(engine).test_client()
    samples = []
    for n in range(warmup + repeats):
        for query, _filters in QUERIES[:6]:
            started = time.perf_counter()
            response = client.get(f"/?q={quote(query)}")
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            if n >= warmup:
                samples.append(elapsed * 1000)
    return samples
