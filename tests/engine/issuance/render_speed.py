"""How fast issued documents render, for benchmarks (not a test).

``measure(n)`` renders ``n`` certificates from ``certificate.toml`` with varied data (names
and addresses differ, so font subsets differ as they do in real use) and returns documents
per second, warm, in this process. ``measure_naive(n)`` does the same page the obvious way
(Platypus flowables, reportlab's ``QrCodeWidget``, no font caches) for comparison.

    .venv/bin/python -m tests.engine.issuance.render_speed 200            # both, one process each
    .venv/bin/python -m tests.engine.issuance.render_speed 200 naive
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

from engine.issuance.render import prepare, render_document
from engine.issuance.template import parse_template

TEMPLATE = Path(__file__).with_name("certificate.toml")
FAMILY = (
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "山口", "松本",
    "井上", "木村", "林", "斎藤", "清水",
)
GIVEN = (
    "翔太", "蓮", "陽翔", "湊", "結衣", "陽菜", "美咲", "葵", "悠真", "大翔", "芽依", "凛", "颯太", "莉子", "樹", "結菜", "蒼",
    "紬", "律", "咲良",
)
TOWNS = (
    "桜町", "緑ケ丘", "旭町", "若葉台", "本町", "栄町", "泉町", "富士見", "柳町", "港町", "青葉", "春日", "曙町", "高砂", "松原",
)
KANA = (
    "サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ", "コバヤシ", "カトウ",
)


def sample_data(i: int) -> dict:
    name = f"{FAMILY[i % len(FAMILY)]}　{GIVEN[(i * 7) % len(GIVEN)]}"
    return {
        "applicant": {"name": name},
        "name": name,
        "kana": f"{KANA[i % len(KANA)]}　ハナコ",
        "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28).isoformat(),
        "sex": "女" if i % 2 else "男",
        "relationship": "世帯主",
        "address": f"見本県見本市{TOWNS[i % len(TOWNS)]}{1 + i % 9}丁目{1 + i % 30}番{1 + i % 20}号",
        "resident_since": date(2000 + i % 25, 4, 1),
        "previous_address": f"東京都{TOWNS[(i * 3) % len(TOWNS)]}{1 + i % 5}丁目",
        "fee": 300,
        "purpose": "児童手当の申請",
    }


def render_one(i: int, template=None) -> bytes:
    template = template or parse_template(TEMPLATE.read_bytes(), "documents/certificate.toml")
    document_id = f"R08-{i:06d}"
    prepared = prepare(template, sample_data(i), number=f"見市第8-{i:06d}号",
                       issued_at=datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC), document_id=document_id)
    url = f"https://verify.example-city.invalid/v/{document_id}?h={prepared.digest[:16]}"
    return render_document(prepared, prepared.facts(url))


def measure(n: int) -> float:
    """Documents per second (wall clock) for ``n`` warm renders in this process."""
    template = parse_template(TEMPLATE.read_bytes(), "documents/certificate.toml")
    for i in range(5):  # warm: fonts registered, fixed subsets built
        render_one(10_000 + i, template)
    start = time.perf_counter()
    for i in range(n):
        render_one(i, template)
    return n / (time.perf_counter() - start)


def _naive_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from engine.issuance.fonts import mincho_path

    name = "IPAexMincho-naive"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(mincho_path())))
    return name


def render_naive(i: int) -> bytes:
    """The same certificate drawn the straightforward way: Platypus and QrCodeWidget."""
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _naive_font()
    data = sample_data(i)
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=18, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=22, leading=28, alignment=1)
    right = ParagraphStyle("right", parent=body, alignment=2)
    rows = [["氏名", data["name"]], ["フリガナ", data["kana"]], ["生年月日", data["birth_date"]],
            ["性別", data["sex"]], ["続柄", data["relationship"]], ["住所", data["address"]],
            ["住民となった年月日", str(data["resident_since"])], ["前住所", data["previous_address"]],
            ["手数料", "300円"]]
    table = Table([[Paragraph(a, body), Paragraph(b, body)] for a, b in rows], colWidths=[120, 350])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.92, 0.92, 0.92))]))
    qr = QrCodeWidget(f"https://verify.example-city.invalid/v/R08-{i:06d}?h=0123456789abcdef")
    drawing = Drawing(70, 70)
    drawing.add(qr)
    buffer = BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build([
        Paragraph(f"文書番号　見市第8-{i:06d}号", right), Paragraph("令和8年11月27日", right),
        Paragraph("住民票の写し", title), Spacer(1, 12), table, Spacer(1, 12),
        Paragraph("上記は、住民基本台帳に記録されている事項と相違ないことを証明します。", body),
        Spacer(1, 60), Paragraph("見本市長　見本　太郎", right), drawing,
    ])
    return buffer.getvalue()


def measure_naive(n: int) -> float:
    for i in range(3):
        render_naive(10_000 + i)
    start = time.perf_counter()
    for i in range(n):
        render_naive(i)
    return n / (time.perf_counter() - start)


VARIANTS = {"render_document": measure, "naive": measure_naive}

if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    if len(sys.argv) > 2:
        rate = VARIANTS[sys.argv[2]](count)
        print(f"{sys.argv[2]}: {rate:.1f} docs/s, {1000 / rate:.1f} ms per document")
    else:
        # Each variant in a fresh process, so one's fonts and garbage do not slow the other.
        for variant in VARIANTS:
            subprocess.run([sys.executable, "-m", "tests.engine.issuance.render_speed", str(count), variant],
                           check=True)
