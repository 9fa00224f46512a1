"""OCR for scanned pages and images, fully offline: RapidOCR on ONNX Runtime with the models in its wheel.

Why RapidOCR: the `rapidocr` wheel (Apache-2.0) carries its PP-OCR detection and recognition
models as ONNX files, so nothing is fetched at run time. RapidOCR would download a model
that is missing, so the engine is given the bundled files by path, and a missing file is an error
here, never a download. PDF pages are rendered with pypdfium2 (the PDFium renderer, Apache-2.0 /
BSD-3), images are read with Pillow; multi-frame TIFFs become pages.

RapidOCR returns one box per detected run of text. Boxes are put back into reading order: a box
joins the line whose vertical centre it shares, lines are sorted top to bottom, and a vertical gap
well above the page's usual line spacing starts a new paragraph. Layout beyond that (columns,
tables) is not recovered: OCR'd text is indexed as paragraphs, with its page number.

A page scanned upside down or on its side is turned upright: RapidOCR's per-line orientation classifier is
off (on upright pages it flipped lines that were fine, and it knows no quarter turns), so a page is turned
whole. A page is read as it comes; when most of its text (in runs of three characters or more: a lone letter or
digit is taller than wide either way up) runs up or down the image, or the recogniser is unsure of it (a mean
score per character under `GOOD_CONFIDENCE`: about 0.6-0.8 on a turned page, 0.95-1.0 on an upright one, even a
fax), it is read again turned: a quarter either way for a page on its side (the likelier way first), half way
round otherwise. The first turn that reads well and surer than the page as it came is kept, else the surest
reading, and a page read unsurely is said to be doubtful. An upright page is read once, as before.

The engine is built once per process, on first use (loading the ONNX sessions is not free), and is used from
one thread at a time.
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.errors import LoaderError, NoTextError
from localrag.ingest.structure import TextBuilder, prose_kind
from localrag.types import LoadedText

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

Notify = Callable[[str], None]
# How OCR is turned on, in the words of every front end: "without --no-ocr" was no fix when the `ocr` setting
# was off, and none over the API or MCP, which have no flags.
OCR_ON = "turn OCR on: the `ocr` setting (`localrag config unset ocr`), and no --no-ocr"

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
# Rendering resolution for scanned PDF pages: CER was 0.01 % at both 150 and 300 dpi on typeset pages
# (benchmarks/README.md), and detection runs at a fixed size, so the finer render costs no more time
# and keeps small print of real scans legible.
RENDER_DPI = 300
# RapidOCR shrinks images whose long side exceeds this; recognition reads line crops at this scale.
_MAX_SIDE = 3000
# Detection (finding the lines) runs on the image scaled so its long side is this. RapidOCR's default
# scales the *short* side up to 736, which turns a 900x200 snippet into a 3000x736 image to search;
# lines of body text stay well detectable at 1280 px per page height.
_DETECT_SIDE = 1280
_MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}
# Off for the reason given where the engine is built; benchmarks/bench_ocr.py can turn it on to compare.
USE_ORIENTATION_CLASSIFIER = False
# A page read with a lower mean score per character is read again turned, and if no turn reads better it is said
# to be doubtful. Measured on letters rendered in DejaVu Sans: upright 0.95-1.0 (blurred, noisy or faxed too),
# turned by 90 or 180 degrees 0.6-0.8.
GOOD_CONFIDENCE = 0.85
# Only a box of this many characters or more tells which way the text runs: a lone digit or letter ("4", "B") is
# taller than wide however the page lies, and a form or seat plan of them was called sideways and turned.
_RUN = 3
_engine_lock = threading.Lock()


@dataclass(frozen=True)
class OcrLine:
    """One line of recognised text and its box on the image, in pixels (y grows downwards)."""

    text: str
    top: float
    bottom: float
    left: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


def _bundled_models() -> dict[str, Path]:
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise LoaderError("OCR engine not installed (package `rapidocr`)", "reinstall localrag, or use --no-ocr")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    found = {step: folder / name for step, name in _MODEL_FILES.items()}
    missing = [str(p) for p in found.values() if not p.is_file()]
    if missing:
        raise LoaderError(
            f"OCR model file missing: {missing[0]}", "reinstall the `rapidocr` package, or use --no-ocr"
        )
    return found


@cache
def _engine() -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:  # onnxruntime, opencv or rapidocr itself absent or broken
        raise LoaderError(f"OCR engine cannot load ({exc})", "reinstall localrag, or use --no-ocr") from exc
    params: dict[str, Any] = {f"{step}.model_path": str(path) for step, path in _bundled_models().items()}
    params["Global.log_level"] = "error"
    params["Global.max_side_len"] = _MAX_SIDE
    params["Det.limit_type"] = "max"
    params["Det.limit_side_len"] = _DETECT_SIDE
    # The per-line orientation classifier turns about one line in eight of an upright page upside
    # down (CER 13.9 % with it, 0.01 % without: benchmarks/README.md); a turned page is turned whole instead.
    params["Global.use_cls"] = USE_ORIENTATION_CLASSIFIER
    return RapidOCR(params=params)


@dataclass(frozen=True)
class OcrReading:
    """What OCR read on one page: its lines in reading order, and how sure the recogniser was of them (its mean
    score per character, 0 to 1; 1 for a page with no text)."""

    lines: list[OcrLine]
    confidence: float

    @property
    def doubtful(self) -> bool:
        return self.confidence < GOOD_CONFIDENCE


def read_page(image: np.ndarray) -> OcrReading:
    """The lines of an RGB or grey image (a numpy array), read upright: turned a quarter, half or three quarters
    first when that reads better (see the module's docstring)."""
    import numpy as np

    first, sideways = _read(image)
    if not sideways and not first.doubtful:
        return first
    turns: tuple[int, ...]
    if sideways:
        # RapidOCR turns each tall line a quarter anticlockwise before reading it, so a page turned clockwise reads
        # well line by line (in the wrong order) and one turned anticlockwise does not: turn it back first.
        turns = (1, 3) if not first.doubtful else (3, 1)
    else:
        turns = (2,)
    readings = [first]
    for quarters in turns:  # anticlockwise
        reading, _ = _read(np.ascontiguousarray(np.rot90(image, quarters)))
        # Kept only when surer than the page as it came: a seat plan of lone letters and digits read a quarter
        # turned scored 0.94 and was kept over its upright reading's 1.0. A tie goes to the turned reading of a page
        # on its side, whose lines as it came were out of order (a clean page can read 1.0 both ways).
        if not reading.doubtful and (
            reading.confidence > first.confidence or (sideways and reading.confidence == first.confidence)
        ):
            return reading
        readings.append(reading)
    return max(readings, key=lambda r: r.confidence)


def _read(image: np.ndarray) -> tuple[OcrReading, bool]:
    """One reading of `image` as it is, and whether most of its text (by characters, in boxes of `_RUN` or more) runs
    up or down the image."""
    with _engine_lock:
        result = _engine()(image)
    if result.boxes is None or not result.txts:
        return OcrReading([], 1.0), False
    boxes = []
    scored = tall = runs = 0.0
    for box, text, score in zip(result.boxes, result.txts, result.scores, strict=False):
        text = str(text).strip()
        if text:
            ys = [float(point[1]) for point in box]
            xs = [float(point[0]) for point in box]
            boxes.append(OcrLine(text, min(ys), max(ys), min(xs)))
            scored += float(score) * len(text)
            if len(text) >= _RUN:
                runs += len(text)
                tall += len(text) if max(ys) - min(ys) > max(xs) - min(xs) else 0
    characters = sum(len(b.text) for b in boxes)
    if not characters:
        return OcrReading([], 1.0), False
    return OcrReading(_reading_order(boxes), scored / characters), tall > runs / 2


def _reading_order(boxes: list[OcrLine]) -> list[OcrLine]:
    """Merge boxes that share a line (their vertical centres within half a line height), top to bottom."""
    rows: list[list[OcrLine]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        centre = (box.top + box.bottom) / 2
        if rows:
            row = rows[-1]
            row_centre = statistics.fmean((b.top + b.bottom) / 2 for b in row)
            if abs(centre - row_centre) < 0.5 * statistics.fmean(b.height for b in row):
                row.append(box)
                continue
        rows.append([box])
    lines = []
    for row in rows:
        row.sort(key=lambda b: b.left)
        lines.append(
            OcrLine(" ".join(b.text for b in row), min(b.top for b in row), max(b.bottom for b in row), row[0].left)
        )
    return lines


def paragraphs(lines: list[OcrLine]) -> Iterator[str]:
    """Lines joined into paragraphs: a gap well above the usual line pitch ends one."""
    if not lines:
        return
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:], strict=False) if b.top > a.top]
    usual = statistics.median(pitches) if pitches else lines[0].height * 1.2
    block = [lines[0].text]
    for previous, line in zip(lines, lines[1:], strict=False):
        if line.top - previous.top > usual * 1.4:
            yield " ".join(block)
            block = []
        block.append(line.text)
    yield " ".join(block)


def render_pdf_page(path: Path, index: int, dpi: int = RENDER_DPI) -> np.ndarray:
    """Page `index` (0-based) of a PDF as an RGB array, rendered by PDFium."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(str(path))
        try:
            page = document[index]
            bitmap = page.render(scale=dpi / 72)
            return bitmap.to_numpy()[:, :, :3].copy()
        finally:
            document.close()
    except pypdfium2.PdfiumError as exc:
        raise LoaderError(f"{path}: page {index + 1} cannot be rendered for OCR ({exc})", "re-export the PDF") from exc


def ocr_pdf_page(path: Path, index: int, dpi: int = RENDER_DPI) -> OcrReading:
    """What OCR reads on page `index` (0-based) of a PDF."""
    return read_page(render_pdf_page(path, index, dpi))


def doubt_note(pages: list[int]) -> str:
    """The note for pages OCR read with low confidence (1-based numbers), "" for none: the text indexed may be
    wrong, and nothing else would tell the user why a search does not find it."""
    if not pages:
        return ""
    return f"{page_list(pages)} read by OCR with low confidence: its text may be misread (a blurred or faint scan?)"


def page_list(pages: list[int]) -> str:
    """ "page 2", "pages 2, 5": pages named in a note."""
    return f"page {pages[0]}" if len(pages) == 1 else "pages " + ", ".join(map(str, pages))


def _upright_on_white(frame: Image.Image) -> Image.Image:
    """`frame` as a viewer shows it: turned as its EXIF orientation says (a phone stores a photo sideways and
    says so), and its transparent parts white (dropping the alpha channel leaves black text on black)."""
    from PIL import Image, ImageOps

    frame = ImageOps.exif_transpose(frame)
    if frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info:
        white = Image.new("RGBA", frame.size, "white")
        white.alpha_composite(frame.convert("RGBA"))
        return white.convert("RGB")
    return frame.convert("RGB")


def _image_frames(path: Path) -> Iterator[np.ndarray]:
    import warnings

    import numpy as np
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        # Pillow warns of an image over ~89 megapixels and refuses one over twice that: the refusal is the user's
        # to read (below), the warning would be printed raw among an ingest's lines. Filtered for the process, not
        # in a catch_warnings block, which would hold across this generator's yields and threads' interleaving.
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                yield np.asarray(_upright_on_white(frame))
    except Image.DecompressionBombError as exc:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise LoaderError(f"{path}: too large to read (over {limit:.3g} megapixels)",
                          "scale it down, or exclude it") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise LoaderError(
            f"{path}: not a readable image ({type(exc).__name__})", "it may be corrupt or truncated; re-save it"
        ) from exc


# The fewest pixels an image holds text in, either way: a line of the smallest type a screenshot shows is ~10 px
# high, and a frame narrower or lower than this is an icon or a bullet. OCR'd, a documentation theme's 11x11 plus.png
# was a document whose text was "+".
MIN_TEXT_SIDE = 32


def read_picture(data: bytes) -> OcrReading | None:
    """What OCR reads in a picture's bytes (a document's embedded image: its first frame, as a viewer shows it), None
    where Pillow cannot read it (a Word file's EMF or WMF drawing) or it is too small to hold a line of text."""
    import io
    import warnings

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)  # as `_image_frames` does, and why
    try:
        with Image.open(io.BytesIO(data)) as image:
            if min(image.size) < MIN_TEXT_SIDE:
                return None
            frame = np.asarray(_upright_on_white(image))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        return None
    return read_page(frame)


def load_image(path: Path, notify: Notify | None = None) -> LoadedText:
    """OCR every frame of an image file; each frame is a page. Frames too small to hold text (`MIN_TEXT_SIDE`) are
    not read: an image of such frames alone is passed over as one with no text."""
    out = TextBuilder()
    doubtful = []
    small, read = "", False  # the size of a frame too small to read; whether a frame was read
    for number, frame in enumerate(_image_frames(path), start=1):
        if min(frame.shape[:2]) < MIN_TEXT_SIDE:
            small = f"{frame.shape[1]}x{frame.shape[0]}"
            continue
        read = True
        if notify is not None:
            notify(f"OCR {path.name} page {number}")
        reading = read_page(frame)
        for text in paragraphs(reading.lines):
            out.add(text, prose_kind(text), (), number)
        if reading.doubtful:
            doubtful.append(number)
    if not out.sections:
        # A blank page scanned, a photo, an icon: passed over as a file with no text is, not a failure.
        if small and not read:
            raise NoTextError(f"{path}: an image of {small} pixels, too small to hold readable text",
                              "exclude it if it holds no text")
        raise NoTextError(f"{path}: OCR found no text in the image", "exclude it if it holds no text")
    return dataclasses.replace(out.build(path.stem), left_out=doubt_note(doubtful))
