"""Which encoding a file's bytes are text in, when they are not UTF-8.

Text files, mails and web pages written on Windows or an old Mac, or exported by Excel, are often in a
legacy 8-bit or East Asian encoding. A label wins where there is one (a page's `<meta charset>`, a mail's
Content-Type), read as browsers and mail clients read it: the WHATWG encoding standard's names, under which
`iso-8859-1` and `us-ascii` mean windows-1252 (a page or mail so labelled holds € and smart quotes at
0x80-0x9f, which Latin-1 makes control characters), `shift_jis` means Windows-31J, `gb2312` GBK and `euc-kr`
Windows-949 (each a superset its writers used).

Without a label (`guess`): UTF-8 first; then UTF-8 with a few stray bytes read as U+FFFD, when its valid
multi-byte sequences outnumber them (single-byte legacy files had none, 11 of 11; East Asian ones 4 to 8 against
28 to 47 stray bytes); then windows-1252 when its text reads as Western text; then charset-normalizer's best match
and a few Cyrillic and Central European code pages, each only when its text reads as text (`_plausible`). On 16
legacy files charset-normalizer alone gave wrong text for 3 (mac-latin2 for French, Shift-JIS for KOI8-R, cp1125
for a short Russian line), each with words that change case in the middle or hold a symbol, which `_plausible`
refuses, and named 4 others by a cousin (cp1250 for German). What none reads as text is refused: wrong text
indexed without a word is worse than a file left out. A guess is said in the note, for the user to check.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from localrag.errors import LoaderError

# WHATWG label -> the Python codec that decodes like it. Labels not here are looked up by Python's codecs.
_WHATWG = {
    **dict.fromkeys(("iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "latin1", "latin-1", "l1", "cp819",
                     "ibm819", "iso-ir-100", "csisolatin1", "us-ascii", "ascii", "ansi_x3.4-1968", "x-cp1252",
                     "windows-1252", "cp1252"), "cp1252"),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("iso-8859-11", "tis-620", "windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "chinese", "csgb2312", "iso-ir-58", "gb_2312-80", "gb18030"),
                    "gb18030"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "ms_kanji", "csshiftjis", "x-sjis", "windows-31j", "ms932"),
                    "cp932"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949", "korean",
                     "iso-ir-149", "csksc56011987", "cseuckr"), "cp949"),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("x-mac-roman", "macintosh", "mac", "csmacintosh"), "mac_roman"),
}

# The names a guessed encoding is told by, first the one a user most likely saved in: a German letter
# decodes the same in cp1250 and cp1252, and charset-normalizer named cp1250.
_NAMES = ("cp1252", "mac_roman", "cp1251", "koi8_r", "cp1250", "cp1253", "cp932", "gb18030", "cp949", "big5hkscs")
_SHOWN = {"utf-8": "UTF-8", "cp1252": "windows-1252", "cp1251": "windows-1251", "cp1250": "windows-1250",
          "cp1253": "windows-1253", "cp932": "Shift-JIS (cp932)", "gb18030": "GBK (GB18030)", "cp949": "EUC-KR (cp949)",
          "big5hkscs": "Big5", "koi8_r": "KOI8-R", "mac_roman": "Mac Roman"}
_ICONV = {"mac_roman": "macintosh", "big5hkscs": "big5-hkscs"}
# The encodings of the WHATWG standard (what browsers and mail clients decode), by Python's codec names: a label
# or a detector's answer outside them is none of a document's (base64, EBCDIC, UTF-16 without its mark).
_WEB_CODECS = frozenset(codecs.lookup(name).name for name in (
    "utf-8", "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7",
    "iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u",
    "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256",
    "cp1257", "cp1258", "gb18030", "gbk", "big5hkscs", "euc-jp", "iso-2022-jp", "cp932", "shift_jis", "cp949",
    "euc-kr"))
# Tried after charset-normalizer's match, in this order, when that one does not read as text.
_FALLBACKS = ("cp1251", "koi8_r", "cp1250")


@dataclass(frozen=True)
class Decoded:
    """Text and, when the encoding was guessed or bytes replaced, a note saying so ("" otherwise)."""

    text: str
    note: str = ""
    # The codec and error handler that read it (before line endings were normalised): a read of the same bytes
    # again (`decode_file`'s `known`) decodes with them, without guessing again.
    how: tuple[str, str] = ("utf-8", "strict")


def codec_for(label: str | None) -> str | None:
    """The Python codec a browser or mail client would decode `label` with; None for no label or an unknown one."""
    name = (label or "").strip().strip("'\"").lower()
    if not name:
        return None
    if name in _WHATWG:
        return _WHATWG[name]
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None
    # A label browsers know names a text encoding of the web: `base64` or `rot13` failed the whole file, an EBCDIC
    # `cp037` read a page as garbage without a word. Browsers pass over the labels they do not know.
    return name if codec.name in _WEB_CODECS else None


def shown(codec: str) -> str:
    """The name a note gives an encoding: what editors and iconv call it."""
    return _SHOWN.get(codec, codec.replace("_", "-"))


def decode_labelled(data: bytes, codec: str) -> Decoded:
    """`data` in the encoding its label names, as a browser reads it: a byte not valid in it becomes U+FFFD."""
    text = data.decode(codec, errors="replace")
    bad = text.count("\ufffd") - data.decode(codec, errors="ignore").count("\ufffd")
    return Decoded(text, f"{bad} {'byte' if bad == 1 else 'bytes'} not valid {shown(codec)} read as \ufffd" if bad
                   else "", (codec, "replace"))


def read_declared(data: bytes, label: str | None) -> Decoded | None:
    """`data` in the encoding `label` declares (a page's meta, a mail part's charset) as browsers and mail clients
    read it, else guessed (`guess`); None when nothing reads it as text. Bytes that are UTF-8 through and through are
    UTF-8 whatever the label says (a page saved as UTF-8 under its template's `iso-8859-1` read "CafÃ©"), and a
    `utf-8` label on bytes that are not counts as none."""
    codec = codec_for(label)
    if codec is None or codec == "utf-8" or _utf8_counts(data)[0] == 0:
        return guess(data)
    return decode_labelled(data, codec)


def guess(data: bytes) -> Decoded | None:
    """`data` with no label: UTF-8, else mostly UTF-8, else the first legacy encoding whose text reads as text
    (told in the note); None when none does."""
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    bad, good = _utf8_counts(data)
    if good > bad:
        return Decoded(data.decode("utf-8", errors="replace"),
                       f"{bad} {'byte' if bad == 1 else 'bytes'} not valid UTF-8 read as \ufffd", ("utf-8", "replace"))
    for codec in _candidates(data):
        text = _strict(data, codec)
        if text is None or not _plausible(text, latin_only=codec == "cp1252"):
            continue
        named = _name(data, codec, text)
        # Only a code page people save text in (or one that reads these bytes the same): charset-normalizer also
        # answered EBCDIC (cp037), UTF-16 without its mark and Arabic cp1006 for short French text.
        if codecs.lookup(named).name in _WEB_CODECS:
            return Decoded(text, f"read as {shown(named)}, a guess", (named, "strict"))
    return None


def iconv_name(codec: str) -> str:
    """`codec` as iconv names it."""
    return _ICONV.get(codec, codec.replace("_", "-"))


def _utf8_counts(data: bytes) -> tuple[int, int]:
    """(bytes not valid UTF-8, valid multi-byte sequences)."""
    text = data.decode("utf-8", errors="surrogateescape")
    bad = sum(1 for c in text if "\udc80" <= c <= "\udcff")
    return bad, sum(1 for c in text if "\x80" <= c < "\ud800" or c > "\udfff")


def _candidates(data: bytes) -> Iterator[str]:
    """windows-1252, then the detected encoding and the fallbacks: detection costs, and is asked only then."""
    yield "cp1252"
    detected = likely(data)
    yield from dict.fromkeys(c for c in (detected, *_FALLBACKS) if c and c != "cp1252")


def likely(data: bytes) -> str | None:
    """The codec charset-normalizer thinks most likely; None when it has none."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    # Chaos is charset-normalizer's share of odd characters: its matches on our legacy files were 0 to 0.06.
    if best is None or best.chaos >= 0.2:
        return None
    name = best.encoding.lower()
    return _WHATWG.get(name, name)  # a cousin of a common code page is named as it (`guess`)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _name(data: bytes, codec: str, text: str) -> str:
    """The first of the usual names that decodes `data` to the same text as `codec`."""
    return next((name for name in _NAMES if _strict(data, name) == text), codec)


_WORD = re.compile(r"[^\W\d_]+")
# Control characters, and box drawing: what KOI8-R or a DOS code page makes of bytes that are not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u2500-\u259f]")
_HALF_KATAKANA = re.compile("[\uff61-\uff9f]")
# A symbol between two letters: ³ in "odby³o" (Polish read as windows-1252), ╧ in a Russian word read as cp1125,
# ˆ in "Caˆ" (Mac Roman read as windows-1252). Latin-1 symbols (· left out: Catalan's "l·l"), spacing accents,
# daggers to ™, and box drawing: CJK punctuation between ideographs is text.
_ODD_INSIDE = re.compile("(?<=[^\\W\\d_])[\u00a1-\u00b6\u00b8-\u00bf\u00d7\u00f7\u02c6-\u02dd\u2020-\u2122"
                         "\u2500-\u259f](?=[^\\W\\d_])")


def _plausible(text: str, *, latin_only: bool) -> bool:
    """Whether decoded text reads as text: no control or box-drawing characters, no word that changes to capitals
    in its middle ("CafŽ", "вСТРЕЧА": Mac Roman or KOI8-R read in the wrong code page) or mixes scripts, no odd
    character inside a word, and not mostly half-width katakana (a Cyrillic 8-bit file read as Shift-JIS).
    `latin_only`: also few letters outside ASCII, as in Western text (Russian read as windows-1252 is all accented
    Latin letters)."""
    if _CONTROL.search(text) or _ODD_INSIDE.search(text):
        return False
    letters = [c for c in text if c.isalpha()]
    wide = [c for c in letters if not c.isascii()]
    # Western text keeps most letters plain even when short ("Été à côté" is 5 of 8); text in another script read
    # as windows-1252 is accented Latin letters almost throughout (Russian: all of them).
    if latin_only and len(wide) * 4 > len(letters) * 3:
        return False
    if len(_HALF_KATAKANA.findall(text)) * 10 > max(len(wide), 1):
        return False
    return not any(_odd_word(word) for word in _WORD.findall(text) if not word.isascii())


def _odd_word(word: str) -> bool:
    scripts = {unicodedata.name(c, "?").split(" ")[0] for c in word if c.isalpha() and not c.isascii()}
    scripts |= {"LATIN"} if any(c.isascii() for c in word) else set()
    if len(scripts & {"LATIN", "CYRILLIC", "GREEK"}) > 1:
        return True
    return any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))


_META = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_BODY = re.compile(rb"<body[\s>]", re.IGNORECASE)
# How far into a page its head is looked through for a `<meta>` past the first 1,024 bytes (`html_label`).
HEAD_SCAN_BYTES = 1 << 20


def html_label(data: bytes) -> str | None:
    """The charset a page declares: `<meta charset>` or a `<meta http-equiv content="...; charset=...">` in its
    head, not in a comment, else an XML declaration; None when none. Browsers look through the first
    1,024 bytes before they read the page, and switch to a `<meta>` they meet later while they read it: one after
    3 KB of inline <style> was passed over, and the page's encoding given as a guess. Looked for before the <body>
    tag, in the first `HEAD_SCAN_BYTES`."""
    head = data[:HEAD_SCAN_BYTES]
    body = _BODY.search(head)
    found = _META.search(_COMMENT.sub(b"", head[: body.start()] if body else head)) or _XML.search(data[:1024])
    label = found.group(1).decode("ascii") if found else None
    # A page declaring UTF-16 in bytes that are not (no BOM, or its meta tag could not be read): UTF-8 to a browser.
    return "utf-8" if label and label.lower().startswith("utf-16") else label


# --- a file's bytes -------------------------------------------------------------------------------


def _binary_error(path: Path, offset: int) -> LoaderError:
    return LoaderError(
        f"{path}: looks binary, not text (NUL byte at offset {offset})",
        "if it is text (UTF-16 without a BOM, say), re-save it as UTF-8; otherwise exclude it",
    )


# Files of a type localrag reads, saved under a text file's name: told as what they are. A PDF named .txt was
# refused as "not valid UTF-8 text (re-save the file as UTF-8)", a fix that cannot work, and one of ASCII bytes
# alone was indexed as PDF syntax.
_DISGUISED = ((b"%PDF-", "a PDF", "rename it .pdf"),
              (b"PK\x03\x04", "a zip file (a Word, Excel, PowerPoint, OpenDocument or EPUB file, or an archive)",
               "rename it with the extension of what it is"))


def decode_file(data: bytes, path: Path, label: str | None = None, known: tuple[str, str] | None = None) -> Decoded:
    """UTF-8 (BOM optional), UTF-16 with a BOM, else the encoding `label` names (a page's or a mail's), else
    one guessed (`encodings.guess`, said in the note); line endings normalised to '\\n'. Before 2026-12-06 a file
    not in UTF-8 was refused, a cp1252 letter or an Excel CSV among them. `known`: the `how` of an earlier read of
    these bytes, decoded with at once (a guess over a 60 MB log took 11 to 15 s, at every search that cited it); a
    decode it fails is made as if none were given. The note is then empty."""
    for magic, what, fix in _DISGUISED:
        if data.startswith(magic):
            raise LoaderError(f"{path}: {what}, not text", fix)
    if known is not None:
        try:
            return _finished(Decoded(data.decode(*known), "", known), path)
        except (UnicodeDecodeError, LookupError):
            pass
    # UTF-32's little-endian mark begins with UTF-16's: read as UTF-16, such a file was "binary (NUL byte)".
    wide = "utf-32" if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else "utf-16" \
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else None
    if wide is not None:
        try:
            read = Decoded(data.decode(wide), "", (wide, "strict"))
        except UnicodeDecodeError as exc:
            raise LoaderError(f"{path}: not valid {wide.upper()} text (byte 0x{data[exc.start]:02x} at offset "
                              f"{exc.start})", "re-save the file as UTF-8") from exc
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise _binary_error(path, nul)
        body = data.removeprefix(codecs.BOM_UTF8)
        # With its mark, read again as "utf-8-sig": the whole of `data`, the mark left out.
        read = dataclasses.replace(decode_labelled(body, "utf-8"), how=("utf-8-sig", "replace")) \
            if len(body) < len(data) else read_declared(body, label) or _refuse(body, path)
    return _finished(read, path)


def _finished(read: Decoded, path: Path) -> Decoded:
    nul = read.text.find("\x00")
    if nul >= 0:
        raise _binary_error(path, nul)
    return dataclasses.replace(read, text=read.text.replace("\r\n", "\n").replace("\r", "\n"))


def _first_bad_byte(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)


def _refuse(data: bytes, path: Path) -> NoReturn:
    offset = _first_bad_byte(data)
    codec = likely(data)
    maybe = f"; it may be {shown(codec)}" if codec else ""
    excel = "; from Excel, save it as \"CSV UTF-8\"" if path.suffix.lower() in (".csv", ".tsv") else ""
    raise LoaderError(f"{path}: not valid UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}){maybe}, "
                      "and no encoding tried reads it as text",
                      f"re-save it as UTF-8: iconv -f {iconv_name(codec or 'cp1252')} -t utf-8 FILE > FILE.utf8{excel}")
