"""The Japanese font that issued documents are set in, registered with reportlab once per process.

Issued documents use IPAex Mincho, a TrueType (glyf) font from the Debian package
``fonts-ipaexfont-mincho``. It is always *embedded* (as reportlab ``TTFont`` subsets): a
document that relies on the reader's own CJK fonts looks different on every machine and
cannot be archived as PDF/A, so the non-embedded CID fonts are never used here.

``MADOGUCHI_FONT_DIR`` points to another folder holding ``ipaexm.ttf`` (a container image,
a developer machine without the Debian package).

Subsetting the font is the dearest part of writing a PDF, and most glyphs of a document
(the template's fixed text) are the same from one document to the next. The face therefore
keeps the subsets it has built, keyed by their exact character list, and the renderer puts
the fixed characters in subsets of their own (see ``render.py``) so they are reused,
together with their compressed form.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections import OrderedDict
from pathlib import Path

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from engine.errors import MadoguchiError

FONT_DIR_VARIABLE = "MADOGUCHI_FONT_DIR"
DEBIAN_FONT_DIR = Path("/usr/share/fonts/opentype/ipaexfont-mincho")
MINCHO_FILE = "ipaexm.ttf"
MINCHO = "IPAexMincho"
#: Built subsets kept per process; a template's fixed subsets stay, one-off ones drop out.
SUBSET_CACHE_SIZE = 64

_lock = threading.Lock()
_registered: TTFont | None = None


class FontMissing(MadoguchiError):
    """The font file for issued documents is not where it was looked for."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(
            f"the font file {path} was not found: install the Debian packages fonts-ipaexfont-mincho "
            f"fonts-ipaexfont-gothic (scripts/system-packages) or set {FONT_DIR_VARIABLE} to a folder "
            f"holding {MINCHO_FILE}"
        )


def font_dir() -> Path:
    configured = os.environ.get(FONT_DIR_VARIABLE)
    return Path(configured) if configured else DEBIAN_FONT_DIR


def mincho_path(directory: Path | None = None) -> Path:
    """Where the Mincho font file is; raise FontMissing if it is not there."""
    path = (directory or font_dir()) / MINCHO_FILE
    if not path.is_file():
        raise FontMissing(path)
    return path


def document_font() -> TTFont:
    """The registered Mincho font; registers it on first use (thread-safe)."""
    global _registered
    if _registered is not None:
        return _registered
    with _lock:
        if _registered is None:
            font = TTFont(MINCHO, str(mincho_path()))
            _cache_subsets(font)
            pdfmetrics.registerFont(font)
            _registered = font
    return _registered


class _LastUsed:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


class _RememberingFlate:
    """The Flate filter for font files, remembering what it compressed.

    A cached subset comes back as the very same ``bytes`` object, so looking it up costs
    no hashing after the first time, and the compression (most of the cost of writing an
    embedded font) is done once per subset instead of once per document.
    """

    pdfname = "FlateDecode"

    def __init__(self) -> None:
        self.done = _LastUsed(SUBSET_CACHE_SIZE)

    def encode(self, content: bytes) -> bytes:
        compressed = self.done.get(content)
        if compressed is None:
            compressed = zlib.compress(content)
            self.done.put(content, compressed)
        return compressed


def _cache_subsets(font: TTFont) -> None:
    """Make the font's face remember the subsets it builds, raw and compressed.

    ``makeSubset`` is a pure function of the character list, so a built subset can be
    handed to the next document with the same list. The wrappers are instance attributes
    that shadow reportlab's methods of this one face.
    """
    face = font.face
    build = face.makeSubset
    add_objects = face.addSubsetObjects
    built = _LastUsed(SUBSET_CACHE_SIZE)
    flate = _RememberingFlate()

    def make_subset(subset: list[int]) -> bytes:
        key = tuple(subset)
        data = built.get(key)
        if data is None:
            data = build(subset)
            built.put(key, data)
        return data

    def add_subset_objects(doc, fontname, subset):
        reference = add_objects(doc, fontname, subset)
        # reportlab files the font stream under this name; if it ever changes, the stream
        # keeps its ordinary filter and only the speed-up is lost.
        stream = doc.idToObject.get(f"fontFile:{face.filename}({fontname})")
        if isinstance(stream, pdfdoc.PDFStream) and stream.filters == [pdfdoc.PDFZCompress]:
            stream.filters = [flate]
        return reference

    face.makeSubset = make_subset
    face.addSubsetObjects = add_subset_objects
