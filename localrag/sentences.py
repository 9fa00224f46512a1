"""Sentence spans of document text: where the best-sentence rule (answer.evidence), the RAFT builder's quotes and
the inverse-cloze questions of `tune --retriever` (tune.ict) cut a text into sentences.

Plain text and Markdown are often wrapped at a fixed width, so a sentence runs over several lines: a line break
inside a paragraph is read as a space. A blank line, and a line that opens a list item, a table row or a heading,
still end one; a table row and a heading are each a unit of their own. A row of a two-column table ("Research |
340000", as the sheet loader writes it) has one cell bar: it is a row when a line beside it has one too, and a
lone "tea | coffee" is prose. Cutting at every line break instead made 47 of the sample corpus's 278 sentences a
fragment of a wrapped one (benchmarks/README.md, "Sentences the RAFT builder quotes"). A row is one sentence, and
means little without its table's first row, which `table_header` finds (a key-value table's first row is a record,
`_heads_table`). In code and data (a JSON export, a YAML file) every line is a unit, as is a log's (`is_log`)
and, in any text, a record's line of an invoice, a catalogue or a timetable (`_records`), and an org-mode or AsciiDoc
heading line (`* Watering`, `== Watering`) is one as a Markdown "#" line is: `chunk_sentences` reads a chunk as its
file type is written, for every use. An abbreviation's
full stop before a lower-case word ("et al. found"), after a title or
"Fig.", or after "No." or "Vol." before a number, does not end a sentence, nor do the German, French, Italian,
Spanish and Portuguese ones ("d.h.", "z.B.", "ca.", "S. 12", "M. Dupont", "Sig.ra", "Dra.") or a date's ordinal
("am 14. Mai", "im 2. Obergeschoss"); a numbered item's "1." belongs to the item's first sentence, a bulleted
item's "- " to none. A closing quote after a sentence's end is the sentence's, and a quotation of a few sentences
is one with its speaker (`_quotations_whole`). A blockquote's "> " marks are layout as a bullet is: a quote starts
and ends a unit, its sentences start after the marks, and `one_line` drops those inside one (citations read a
line's leading ">" as space, so such a quote still verifies). An Obsidian callout's first line (`> [!note] Soil
test`) is a unit of its own. A heading, a callout's first line and a table's first row are units but say nothing:
`is_label` tells them apart, so that the best sentence and a summary never quote one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from localrag.clause_marks import clause_heading
from localrag.types import HEADING_JOIN, Chunk

# A date's or a German ordinal's number ("am 14. Mai", "Zürich, 1. März 2026", "im 2. Obergeschoss", "der 1.
# April"): its "." is the ordinal's before a month's name (full or abbreviated, in German, French, Italian, Spanish
# or Portuguese) followed by a day or a year, before one that is no English word whatever follows, or after an
# article or "am", "im", "zum" before a word (capitalised: German nouns are). Cut there, a quote of "Der Mietbeginn
# ist der 1. April 2026." was "Der Mietbeginn ist der 1.". A number after other words still ends a sentence before a
# capital ("Die Kosten stiegen um 12. Dann ...", "It rose by 2. Then"), and so before an English word that names a
# month ("Her number was 7. August brought ...", "Earth is planet 3. Mars is ...") and after "I am" ("I am 30. My").
# Full names, and the abbreviations (with their full stop) that are not words of their own.
_MONTHS = ("(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|"
           "[Jj]anvier|[Ff]évrier|[Mm]ars|[Aa]vril|[Jj]uin|[Jj]uillet|[Aa]o[uû]t|[Ss]eptembre|[Oo]ctobre|[Nn]ovembre|"
           "[Dd]écembre|[Gg]ennaio|[Ff]ebbraio|[Mm]arzo|[Aa]prile|[Mm]aggio|[Gg]iugno|[Ll]uglio|[Aa]gosto|"
           "[Ss]ettembre|[Oo]ttobre|[Dd]icembre|[Ee]nero|[Ff]ebrero|[Aa]bril|[Mm]ayo|[Jj]unio|[Jj]ulio|[Ss]eptiembre|"
           "[Oo]ctubre|[Nn]oviembre|[Dd]iciembre|[Jj]aneiro|[Ff]evereiro|[Mm]arço|[Mm]aio|[Jj]unho|[Jj]ulho|"
           "[Ss]etembro|[Oo]utubro|[Nn]ovembro|[Dd]ezembro)\\b"
           r"|(?:Jan|Febr?|Mär|Mrz|Apr|Aug|Sept?|Okt|Nov|Dez|[Jj]anv|[Ff]évr|[Jj]uil|[Oo]ct|[Dd]éc|[Gg]enn?|[Ff]ebb|"
           r"[Mm]ag|[Gg]iu|[Ll]ug|[Aa]go|[Ss]ett?|[Oo]tt|[Dd]ic|[Ee]ne|[Aa]br|[Ff]ev|[Jj]ul|[Oo]ut|[Dd]ez)\.")
# Those of them that open English sentences: English months and their abbreviations, a planet, names.
_ENGLISH_MONTHS = (r"(?:April|August|September|November|Mars|Avril|Mayo|Julio|Janeiro|Jan|Febr?|Apr|Aug|Sept?|Oct|"
                   r"Nov|Jul|Gen)\b")
_ORDINAL = (rf"\b\d{{1,2}}\.(?=\s+(?:{_MONTHS})\s*\d|\s+(?!{_ENGLISH_MONTHS})(?:{_MONTHS}))"
            r"|(?:\b[Dd](?:er|ie|as|en|em|es)|\b[Ii]m|(?<!\bI\s)\b[Aa]m|\b[Zz]u[mr]|\b[Vv]om|\b[Bb]eim)"
            r"\s+\d{1,3}\.(?=\s+[A-ZÄÖÜ])")
# A sentence ends at . ! or ? followed by space (a line break is space here), or at the end of its unit; not at a
# "." before a lower-case word, which is an abbreviation's ("et al. found", "e.g. the", "ca. two"): cut there, the
# next sentence started in mid-clause (247 of 5,979 COVID-QA sentences did).
# Nor after a title or a reference word that is always followed by what it names ("Dr. Li", "(Fig. 2)": 65 COVID-QA
# sentences ended at "Fig."); "et al." and "etc." end sentences too often to be listed.
# Nor after a word that numbers what follows ("test no. 2", "Ref. No. 258/11", "Vol. 82", "p. 387", "Art. 6"):
# 14 of 24,549 COVID-QA and PubMedQA sentences ended at one of these before a number (as a contract's "Art." would).
# Contracts number their references so too, in English and German ("cl. 9.3", "Sch. 2", "para. 4", "§ 3 Abs. 2",
# "Nr. 5", "Ziff. 4", "Kap. 2", "Anl. 1"): cut there, a quote of clause 5.2 began "9.3 the Supplier shall pay" and
# read as clause 9.3's. So do German invoices and letters ("Pos. 1", "MwSt. 19 %", "USt. 7 %", "3 Stk. 12,50 €",
# "Tel. 030 ...", "Tel. +49 ..."): an invoice's "Pos. 1: Knetmaschine ..." was the sentences "Pos." and "1: ...".
# Only before a number: "inkl. MwSt." ends a sentence as often as not. Not every short capitalised word before a
# number: English starts sentences with a year after a name ("It began in Wuhan. 2019-nCoV spread ...").
# Titles of German, French, Italian, Spanish and Portuguese are always followed by the name too ("Dra. Ana", "Il
# Sig. Rossi", "Sig.ra Bianchi", "Dott. Neri", "Sr. López", "Mme. Favre"), and so are the abbreviations that open a
# clause or a figure ("d.h.", "z. B.", "u.a.", "bzw.", "ca. 5000", "vgl. Ziff. 3", "p. ex.", "inkl. Versand", "zzgl.
# MwSt.", "ggf. Nachzahlung"): none ends a sentence,
# and before a German noun (capitalised) each cut one ("Die Mietzinskaution beträgt drei Monatsmieten, d.h." |
# "Mindestens ..."). "usw." and "etc." are not listed, as "et al." is not: before a capital they end a sentence as
# often as not (6 of COVID-QA's, each a real end). "Me" (Maître) is written without a full stop, and "Me." ends
# English sentences ("Lonely Me."). "S." ("Seite") only before a page number ("Beilage S. 12"): as "U.S. 95" shows,
# a capital S ends sentences otherwise.
# A French "M." or "MM." (Monsieur, Messieurs: "M. Dupont", "Mme Favre et M. Rochat") only where a name cannot stand
# before it: at a sentence's start, after punctuation or after one of these French words. After a name it is the
# initial that ends a reference ("Lipsitch M."; 9 of COVID-QA's sentences end at "M."), after a number a molarity.
# A Spanish or Portuguese "Sr." or "Sra." before a name likewise ("el Sr. López", "a Sra. Costa"): after a name it is
# English "Senior", which ends sentences ("Martin Luther King Sr. He was a pastor."), unless what follows is no
# capitalised word ("George Wilson, Sr. (February 1914", "Steve Trevor Sr. & Jr.").
# Each is looked for only where its letters stand (the lookahead first): tried at every character, the lookbehinds
# made splitting six times slower (0.03 s -> 0.18 s for 412 KB of COVID-QA's text).
def _before_name(words: str) -> str:
    return "|".join(["^", r"(?<=\n)", r"(?<=[.,;:!?(«\"'’]\s)",
                     *(rf"(?<=\b{word}\s)" for word in sorted({*words.split(), *words.title().split()}))])


_FRENCH_TITLE = (rf"(?=MM?\.\s)(?:{_before_name('et de à par pour avec chez que selon entre sur a le la les')})"
                 r"MM?\.(?=\s)")
_IBERIAN_TITLE = (rf"(?=Sra?\.\s)(?:{_before_name('el la al del los las y e o a de con por para que do da ao com')})"
                  r"Sra?\.(?=\s)|\bSra?\.(?=\s+[^\sA-ZÀ-Þ])")
# Every abbreviation's full stop lies within a dozen characters: where none does, none of them is tried (0.10 s ->
# 0.04 s for those 412 KB, the spans the same).
_ABBREVIATION = (r"(?=[^.!?]{0,12}\.)"
                 r"(?:\b(?:Figs?|Eqs?|Refs?|Dr|Mrs?|Ms|Prof|vs|cf|approx|e\.g|i\.e|Dra|Mme|Mlle|Srta|Sig(?:\.ra)?|"
                 r"Dott(?:\.ssa)?|d\.\s?h|z\.\s?B|u\.\s?a|bzw|ca|vgl|p\.\s?ex|inkl|zzgl|ggf)\.(?=\s)"
                 rf"|{_FRENCH_TITLE}|{_IBERIAN_TITLE}"
                 r"|\b(?:[Nn]os?|[Vv]ols?|pp?|Art|Sec|Ch|[Cc]ls?|[Ss]ch|[Ss]ched|[Pp]aras?|[Ss]ubs?|Abs|Nr|Ziff|Kap|"
                 r"Anl|Tab|S|Pos|M[Ww]St|USt|Stk|Tel)\.(?=\s*\d)|\bTel\.(?=\s*[+(])"
                 # a street's before its number, alone or ending a name ("Hauptstr. 5", "Str. 12"), and "No." before a
                 # code ("Receipt no. R-558120", "Order No. INV/2026"): a receipt was cut after "no."
                 r"|[Ss]tr\.(?=\s*\d)|\b[Nn]os?\.(?=\s*[A-Z]{1,4}[-/]?\d)"
                 # a month's abbreviation before its day or year: "3. Jan. 2026", "Dec. 31"
                 r"|\b(?:Jan|Febr?|Mä?r|Apr|Ju[nl]|Aug|Sept?|Okt|Oct|Nov|De[zc]|[Dd]éc|[Dd]ic)\.(?=\s*\d)"
                 rf"|{_ORDINAL})")
# Marks that end a sentence in scripts other than the Latin: the ideographic full stop and the full-width ! and ?
# (Chinese and Japanese write no space after them), the Devanagari danda, the Arabic question mark and the Urdu
# full stop. Cut only at . ! ?, a Chinese or Hindi paragraph was one sentence: `summarize` quoted it whole, the best
# sentence was the paragraph. A closing bracket or quote after one belongs to its sentence (「……。」).
SENTENCE_ENDS = "\u3002\uff61\uff01\uff1f\u0964\u0965\u061f\u06d4"
SENTENCE_CLOSERS = "\u300d\u300f\u201d\u2019\uff09\u3011)"
# A French quote closes after its full stop, a space before the guillemet (« Nous partons. »): the » is the
# sentence's, not the start of the next one.
_GUILLEMET = r"(?:[ \u00a0\u202f]?\u00bb(?=\s|$))?"
# Greek's question mark is ";" (U+037E, which NFC makes a semicolon): a ";" (either) after a Greek letter, before a
# space and a capital Greek letter, ends a sentence ("Πόσα αγγεία θα βρεθούν; Κανείς δεν ξέρει." was one). No other
# ";" does: an English or German semicolon joins two clauses of one sentence. Tried only at a ";", not at every
# character.
_GREEK_CAPITAL = ("\u0386\u0388-\u038f\u0391-\u03a9"  # monotonic; then polytonic capitals
                  "\u1f08-\u1f0f\u1f18-\u1f1d\u1f28-\u1f2f\u1f38-\u1f3f\u1f48-\u1f4d\u1f59-\u1f5f\u1f68-\u1f6f")
_GREEK_QUESTION = f"(?<=[\u0370-\u03ff\u1f00-\u1fff][;\u037e])(?=\\s+[{_GREEK_CAPITAL}])"
# A closing quote or bracket after . ! or ? belongs to the sentence it ends ('... society." This quote', "(See
# above.) Then", "'Are you coming?' Nobody"): before 2026-12-08 only a CJK end took one, and a "." before a closing
# quote went on into the next sentence, quoted as 'Naked people have little or no influence on society." This quote
# shows why ...'. Before a lower-case word the sentence goes on ('He said "Stop!" and left.', "'Why?' she asked.").
_CLOSING = "\"'\u201c\u201d\u2019\u00bb)\\]"
_CLOSED = rf"[{_CLOSING}]+(?=\s|$)"
_SENTENCE = re.compile(rf"(?:{_ABBREVIATION}|[^.!?;\u037e{SENTENCE_ENDS}]|[;\u037e](?!{_GREEK_QUESTION})"
                       rf"|[.!?]+(?=[^\s.!?{SENTENCE_ENDS}])(?!{_CLOSED})|\.+(?=\s+[a-z])|[.!?]+{_CLOSED}(?=\s+[a-z]))+"
                       rf"(?:[{SENTENCE_ENDS}]+[{SENTENCE_CLOSERS}]*|[.!?]+(?:{_CLOSED}|{_GUILLEMET})"
                       rf"|[;\u037e]{_GREEK_QUESTION})?")
# Han ideographs and Japanese kana: scripts written without a space between words. Each character counts as a
# word (a Chinese word is one to three of them), so that rules measured in words (three for the best sentence,
# six for a summary's, a quote's three) do not take a whole Chinese sentence for one word.
UNSPACED_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED = re.compile(f"[{UNSPACED_CHARS}]")
_NUMBER = r"\d{1,3}[.)]\s"  # a numbered list item's "1. " or "2) "
# The number is part of the item's first sentence, not a sentence of its own.
_ITEM_NUMBER = re.compile(rf"\s*({_NUMBER}\s*)")
# The marks that open a bulleted item: Markdown's, and the typographic bullets a list pasted from Word or a web page
# keeps (• ‣ ◦ ▪ ● ⁃, and an en dash). One definition for the sentence rules and the loaders (ingest.structure's
# LIST_LINE): with "•" missing here, `ask --extract` quoted a pasted list's three items as one sentence.
BULLET_MARK = "[-*+\u2022\u2023\u25e6\u25aa\u25cf\u2043\u2013]"
# A bulleted item's mark is layout, not part of its first sentence (a quote of "- 1987: ..." reads badly).
_BULLET = re.compile(rf"\s*{BULLET_MARK}\s+")
# Of those marks the en dash alone is also prose's: a parenthetical dash (" – three weeks in all – ") that a wrapped
# paragraph puts at a line's start. It opens an item only where a list can (`dash_goes_on`): read as a bullet there,
# "after a long delay\n– three weeks in all – and approved the budget." was two sentences, the second without its dash.
_PROSE_DASH = re.compile(r"\s*\u2013\s")
# A line that ends a sentence, or introduces a list ("Bring:"), closing quotes and brackets aside (the PDF reader asks
# it of a page's last line too).
ENDS_SENTENCE = re.compile(rf"[.!?:{SENTENCE_ENDS}][{SENTENCE_CLOSERS}\"'\u00bb]*\s*$")


def _clause_opens(line: str, before: str | None) -> bool:
    """Whether `line` opens a sub-clause (`_SUB_CLAUSE_MARK`) after the line `before` it: not where `before` goes on
    mid-sentence ("weighs\n3.5 kg", "under subsection\n(1) ..."), unless it leads clauses (`_CLAUSE_LEAD`)."""
    if _SUB_CLAUSE_MARK.match(line) is None:
        return False
    if before is None or not before.strip() or ENDS_SENTENCE.search(before) is not None:
        return True
    # A leading line is a heading (short) or a clause of an enumeration ("(a) by hand;"), not a long numbered line
    # that wraps (a paper's reference "43. Krostensen, Mette; ... mener" over "23.000 kan vaere smittet.").
    leads = (_CLAUSE_LEAD.match(before) is not None or clause_heading(before.strip()) is not None) \
        and (len(before.strip()) <= _CLAUSE_HEADING_MAX or before.rstrip().endswith((";", ",")))
    return leads or before.strip().isupper()


def dash_goes_on(line: str, before: str | None, *, in_list: bool) -> bool:
    """Whether `line`, opened by an en dash, goes on with the sentence of the line `before` it (a wrapped line
    mid-sentence), so is no list item: not where `before` is none or blank, ends a sentence, or is in a list or a
    unit of its own, a heading (`in_list`). False for a line opened by any other mark."""
    if _PROSE_DASH.match(line) is None or in_list or before is None or not before.strip():
        return False
    return ENDS_SENTENCE.search(before) is None
_LINE = re.compile(r"[^\n]*(?:\n|$)")
# A blockquote's marks at a line's start ("> ", "> > " nested); and after a line break inside a sentence.
_QUOTE_MARKS = re.compile(r"[ \t]*>(?:[ \t]*>)*[ \t]?")
_INNER_QUOTE_MARKS = re.compile(r"\n[ \t]*>(?:[ \t]*>)*")
# An Obsidian callout's first line, after its quote marks: "[!note] Soil test", "[!tip]- Folded".
_CALLOUT = re.compile(r"\[![\w-]+\][+-]?(?:[ \t]|$)")
# A line that starts a list item ("- ", "* ", "+ ", "1. ", "2) ") or a table row ("|"); a heading line
# (`_is_heading_line`) starts one too.
_OPENS_UNIT = re.compile(rf"\s*(?:{BULLET_MARK}\s|{_NUMBER}|\|)")
# A line of one repeated mark: a title's underline or overline (Markdown's setext "Title" over "=====", and
# reStructuredText's adornments, which plain-text notes use too) or a thematic break ("---", "***"). It is layout,
# part of no sentence: read as text, `ask --extract` quoted "BeanMill G2 Grinder Care Instructions =====..." as an
# answer, and "Setup\n-----\nPlug it in." was one sentence. The loaders read titles by it (`ingest.loaders`).
ADORNMENT = re.compile(r"([=\-~^*#+\"'`:.])\1{2,}")
# A statute's or a contract's sub-clause mark at a line's start ("(1) ", "(a) ", "(iv) ", "1.1 ", "2.3.1 "), and a line
# that leads clauses: a heading ("§ 4 Notice to quit", "1. DELIVERY", "Article 5 ...", a title in capitals) or a
# clause itself. The mark opens a unit after a line that ends a sentence or leads clauses (`_clause_opens`): read on
# from the line before, `summarize` quoted "§ 4 Notice to quit (1) A landlord may ..." as one sentence.
_SUB_CLAUSE_MARK = re.compile(r"[ \t]*(?:\((?:\d{1,3}|[a-z]|[ivx]{1,4})\)|\d{1,3}(?:\.\d{1,3})+\.?)[ \t]+\S")
# A line leads clauses when it opens with a clause's mark ("1.", "1)", "1.1", "(a)") or is a clause's heading
# (`clause_marks.clause_heading`: "§ 4 Notice to quit", "Rule 4"); a bare count ("12 patients received a dose of")
# or a sentence opening with a clause's name ("Section 4 applies where the amount is at least") is wrapped prose,
# which the "2.5 mg ..." or "1.5 times ..." under it goes on (before 2026-12-07 they were sentences of their own).
_CLAUSE_LEAD = re.compile(r"[ \t]*(?:\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)]|\((?:\d{1,3}|[a-z]|[ivx]{1,4})\))[ \t]")
_CLAUSE_HEADING_MAX = 60  # characters
# A table row written without a leading "|" (as the HTML and sheet loaders write tables): two or more cell bars.
_TABLE_ROW = re.compile(r"[^\n|]*\|[^\n|]*\|")
# How the loaders join a row's cells; a line with one is a two-column row when a line beside it has one too.
_CELL_BAR = " | "


# An org-mode or AsciiDoc heading line (`** TODO [#A] Call the bank :money:`, `== Watering`): the outline loader
# (ingest.outline) makes its sections of them, and the sentence rules read such a line as a heading of its own, as
# Markdown's "#" line is. An org heading is named without its TODO keyword, priority and tags.
_ORG_HEADING = re.compile(r"(\*+)[ \t]+(.*)")
_ORG_TODO = re.compile(r"(?:TODO|DONE|NEXT|WAITING|HOLD|CANCELLED|CANCELED)[ \t]+|\[#[A-Za-z0-9]\][ \t]*")
_ORG_TAGS = re.compile(r"[ \t]+:[\w@#%:]+:[ \t]*$")
_ADOC_HEADING = re.compile(r"(={1,6})[ \t]+(\S.*)")


def org_heading(line: str) -> tuple[int, str] | None:
    """(level, name) of an org-mode heading line ("** TODO [#A] Call the bank :money:" is (2, "Call the bank")),
    else None."""
    match = _ORG_HEADING.fullmatch(line)
    if match is None:
        return None
    name = " ".join(_ORG_TAGS.sub("", _ORG_TODO.sub("", match.group(2), count=2)).split())
    return (len(match.group(1)), name) if name else None


def adoc_heading(line: str) -> tuple[int, str] | None:
    """(level, name) of an AsciiDoc heading line ("== Watering" is (2, "Watering")), else None."""
    match = _ADOC_HEADING.fullmatch(line.rstrip())
    # A closing run of marks (`== Section ==`) is optional.
    return None if match is None else (len(match.group(1)), " ".join(match.group(2).rstrip("= \t").split()))


# The heading lines of a file type besides the "#" line every type's text may hold (a Markdown heading).
_HEADING_LINE: dict[str, Callable[[str], tuple[int, str] | None]] = {"org": org_heading, "adoc": adoc_heading}


# Lines of a file type that are units of their own, never part of the sentence after them: org's planning line
# ("SCHEDULED: <2026-04-01 Wed> DEADLINE: <2026-04-15 Wed>", quoted as the start of the next sentence), and an
# AsciiDoc block's attribute line ("[source,bash]", "[NOTE]") and its delimiter lines ("----", "===="), which name
# or mark the block and say nothing (labels): "[source,bash] ---- kubectl rollout undo deployment/web ----" was quoted.
_ORG_PLANNING = re.compile(r"[ \t]*(?:(?:SCHEDULED|DEADLINE|CLOSED):[ \t]*[<\[][^>\]\n]*[>\]][ \t]*)+")
# AsciiDoc's delimiter lines, by the block each opens (ingest.outline reads its blocks by them): code (a fence may name
# its language: ```python), a table, a comment, prose (example, sidebar, quote, passthrough, open).
ADOC_CODE = re.compile(r"-{4,}|\.{4,}|`{3,}")
ADOC_FENCE = re.compile(r"`{3,}[\w+#-]*")
ADOC_TABLE = re.compile(r"[|,:!]={3,}")
ADOC_COMMENT = re.compile(r"/{4,}")
ADOC_PROSE = re.compile(r"={4,}|\*{4,}|_{4,}|\+{4,}|--")
# AsciiDoc's preprocessor lines: a condition (`ifdef::internal[]`, `ifndef::`, `ifeval::[...]`, `endif::[]`) and an
# include (`include::other.adoc[]`), which say nothing either: `summarize` quoted "ifdef::internal[] The internal pager
# number is 5550199. endif::[]". A condition holding its text on its line (`ifdef::draft[Draft only.]`) is text.
ADOC_PREPROCESSOR = re.compile(
    r"[ \t]*(?:(?:ifn?def|endif)::[^\[\s]*\[\]|ifeval::\[.*\]|include::[^\[\n]+\[[^\]\n]*\])[ \t]*"
)
_ADOC_DELIMITERS = "|".join(p.pattern for p in (ADOC_CODE, ADOC_FENCE, ADOC_TABLE, ADOC_COMMENT, ADOC_PROSE))
_ADOC_ATTRIBUTES = re.compile(rf"[ \t]*(?:\[[^\[\]\n]*\]|{_ADOC_DELIMITERS}|{ADOC_PREPROCESSOR.pattern})[ \t]*")
_OWN_LINE: dict[str, re.Pattern[str]] = {"org": _ORG_PLANNING, "adoc": _ADOC_ATTRIBUTES}
_LABEL_LINE: dict[str, re.Pattern[str]] = {"adoc": _ADOC_ATTRIBUTES}


def _is_own_line(line: str, file_type: str) -> bool:
    """Whether a line (without its line break and quote marks) is a unit of its own in a file of this type."""
    own = _OWN_LINE.get(file_type)
    return own is not None and own.fullmatch(line) is not None


def _is_heading_line(line: str, file_type: str) -> bool:
    """Whether a line (without its line break and quote marks) is a heading of a file of this type."""
    heading_of = _HEADING_LINE.get(file_type)
    return line.lstrip().startswith("#") or (heading_of is not None and heading_of(line) is not None)


def _lines_are_units(file_type: str) -> bool:
    """Whether no sentence of a file of this type crosses a line: code and data (a JSON chat export, a YAML file)
    are written a record or a key to a line, and read as prose an extract quoted three chat messages or five keys
    ("name: Carol Diaz role: Marketing lead budget: ...") as one sentence."""
    return file_type.startswith("code:")


# A log's line opens with its time: ISO 8601 ("2026-03-04T23:11:46Z", "2026-03-04 23:11:46,120"), perhaps in
# brackets, a slashed date ("2026/03/04 23:11:46"), syslog's "Mar  4 23:11:46", a bare "23:11:46", or a chat export's
# day-first or month-first date and time (`_CHAT_TIME`).
# WhatsApp's: iOS "[3/14/24, 9:01:10 AM]", Android "14/03/2024, 09:01", "14.03.24, 09:01", "3/14/24, 9:01 PM" (iOS
# writes a narrow no-break space before AM, and a left-to-right mark U+200E before a line it marks as a system's).
_CHAT_TIME = r"\d{1,2}[./]\d{1,2}[./]\d{2,4},?[ \t]\d{1,2}:\d{2}(?::\d{2})?(?:[ \t\u202f]?[AaPp]\.?[Mm]\.?)?"
_LOG_TIME = re.compile(r"[ \t\u200e]*\[?(?:\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}"
                       r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|" + _CHAT_TIME + ")")
# A chat export's message line: its time (bracketed, or before " - "), then its sender and a colon (WhatsApp's
# "[3/14/24, 9:01:10 AM] Jonas Weber: ", "14/03/2024, 09:01 - Jonas Weber: ", Signal's "[2024-04-02 19:12] Jonas: ").
_CHAT_MESSAGE = re.compile(r"[ \t\u200e]*(?:\[(?:" + _CHAT_TIME + r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)\]"
                           r"|" + _CHAT_TIME + r"[ \t]+-)[ \t]+[^:\n\s][^:\n]{0,39}:")
LOG_SUFFIX = ".log"


def log_units(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each unit of a log's `text[start:end]`, trimmed: its lines, and a chat export's message whole,
    its lines after the first (a message typed over lines: they open with no time) with it. Line by line, a
    WhatsApp message's later lines were quoted without its sender and time, and chunks started inside messages."""
    units: list[tuple[int, int]] = []
    in_message = False
    for line in _LINE.finditer(text, start, len(text) if end is None else end):
        spans = trimmed_spans(text, [line])
        if not spans:
            continue
        opens = _LOG_TIME.match(line.group()) is not None
        if in_message and not opens:
            units[-1] = (units[-1][0], spans[0][1])
            continue
        in_message = _CHAT_MESSAGE.match(line.group()) is not None
        units.append(spans[0])
    return units


def is_log(text: str) -> bool:
    """Whether `text` is a log's lines: two or more units (`log_units`), most of them opening with a time stamp, or
    one chat message (a chunk of one, a chat export's message read as a section, `ingest.chats`). A log has no blank
    lines and rarely a sentence's ". ", so read as prose its whole file was one sentence, quoted a dozen lines glued
    with spaces from the middle of one; its units are sentences (a `.log` file's lines whatever they open with,
    `chunk_sentences`)."""
    units = log_units(text)
    if len(units) == 1:
        return _CHAT_MESSAGE.match(text, *units[0]) is not None
    return len(units) > 1 and 2 * sum(_LOG_TIME.match(text, s, e) is not None for s, e in units) > len(units)


def reads_as_log(path: str, text: str) -> bool:
    """Whether `text`, of the file at `path`, reads line by line as a log: a `.log` file's whatever its lines open
    with, else where `is_log` finds one. The one rule for the chunker's pieces and a chunk's sentences."""
    return path.lower().endswith(LOG_SUFFIX) or is_log(text)


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """`sentence_spans` of a chunk's text, read as its file's type is written: the one rule for the best sentence,
    a summary, RAFT's quotes and the inverse-cloze questions. A `.log` file's lines are units, as a log's are."""
    return sentence_spans(chunk.text, file_type=chunk.file_type, path=chunk.path)


def sentence_spans(text: str, *, file_type: str = "", path: str = "") -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, trimmed of surrounding whitespace, a line break inside a
    paragraph read as a space; `file_type`, as a chunk names it: in code and data every line is a unit of its own,
    in org-mode and AsciiDoc a heading line is one (in every type a "#" line). In a log (`reads_as_log`, of the file
    at `path` where one is given), every line is a unit too."""
    by_line = _lines_are_units(file_type) or reads_as_log(path, text)
    spans = []
    # A chat message is one sentence, as a table row is: its sender and time stay with each thing it says.
    units = [(s, e, _CHAT_MESSAGE.match(text, s, e) is not None) for s, e in log_units(text)] if by_line \
        else _units(text, file_type)
    for start, end, row in units:
        quote = None if by_line else _QUOTE_MARKS.match(text, start, end)
        start = quote.end() if quote else start
        if row:
            # A table row is one sentence: its cells mean little apart from its first ("Vehicle | 2019 Toyota
            # Corolla, reg. KX19 ZTU" was quoted "Vehicle | 2019 Toyota Corolla, reg." before 2026-12-08).
            spans.extend(trimmed_spans(text, _WHOLE.finditer(text, start, end)))
            continue
        bullet = _BULLET.match(text, start, end)
        start = bullet.end() if bullet else start
        number = _ITEM_NUMBER.match(text, start, end)
        unit = trimmed_spans(text, _SENTENCE.finditer(text, number.end() if number else start, end))
        if number and unit:
            unit[0] = (number.start(1), unit[0][1])
        if quote:  # a sentence of a quote that starts a line of it starts after the line's marks
            unit = [(_after_marks(text, s, e), e) for s, e in unit]
        spans.extend(_quotations_whole(text, unit))
    return spans


# A quotation's marks: those that open one wherever they stand, those that open one after a space or a line's start
# (a straight quote, and the English opening one that closes a German quotation: „Wir gehen.“), and those that close.
_OPENS_QUOTE = "\u201e\u00ab"
_OPENS_QUOTE_AFTER_SPACE = '"\u201c'
_CLOSES_QUOTE = '"\u201c\u201d\u00bb'
_QUOTE_MARK = re.compile(f"[{_OPENS_QUOTE}{_CLOSES_QUOTE}]")
# The longest sentence a quotation's sentences are joined into: a quoted paragraph is read sentence by sentence.
QUOTATION_MAX = 300  # characters


def _quote_open(text: str, start: int, end: int) -> bool:
    """Whether a quotation opened in `text[start:end]` is still open at `end`. A straight or English opening quote
    after a space opens one inside the open one, as a closing quote follows a word: before 2026-12-08 the `"` of
    `read the "Safety" memo` closed a quotation never closed, and its four sentences were read as one."""
    depth = 0
    for mark in _QUOTE_MARK.finditer(text, start, end):
        at, char = mark.start(), mark.group()
        after_space = at == start or text[at - 1].isspace() or text[at - 1] in "(["
        if char in _OPENS_QUOTE or (char in _OPENS_QUOTE_AFTER_SPACE and after_space):
            depth += 1
        elif depth:
            depth -= 1
    return depth > 0


def _quotations_whole(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans`, the sentences of one unit, with those of a quotation that closes within QUOTATION_MAX characters of
    its sentence's start joined into it: a reader reads 'As Mark Twain once said, "Clothes make the man. Naked people
    have little or no influence on society."' as one sentence, and cut at "man." the first half named the speaker and
    the second, quoted alone, said nothing of who said it (before 2026-12-08). A quotation never closed (an inch
    mark, a speech running on into the next paragraph) joins nothing."""
    joined: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        i += 1
        if _QUOTE_MARK.search(text, start, end) and _quote_open(text, start, end):
            for j in range(i, len(spans)):
                if spans[j][1] - start > QUOTATION_MAX:
                    break
                if not _quote_open(text, start, spans[j][1]):
                    end, i = spans[j][1], j + 1
                    break
        joined.append((start, end))
    return joined


_WHOLE = re.compile(r".*", re.DOTALL)


def _after_marks(text: str, start: int, end: int) -> int:
    """`start`, or where the text starts after a blockquote's marks that open the line at `start`."""
    if start and text[start - 1] != "\n":
        return start
    marks = _QUOTE_MARKS.match(text, start, end)
    if marks is None:
        return start
    position = marks.end()
    while position < end and text[position].isspace():
        position += 1
    return position if position < end else start


def spaced(text: str) -> str:
    """`text` with a space on each side of every character of a script written without spaces, for counting and
    matching words: English text comes back as it is."""
    return _UNSPACED.sub(r" \g<0> ", text) if _UNSPACED.search(text) else text


def is_unspaced(char: str) -> bool:
    """Whether `char` is of a script written without spaces between words (a word boundary on either side)."""
    return bool(_UNSPACED.fullmatch(char))


def one_line(text: str) -> str:
    """A sentence read off a wrapped paragraph, its line breaks and runs of spaces made single spaces, and a
    blockquote's marks on its later lines dropped ("> [!note] Soil test > The soil pH ..." was quoted so)."""
    return " ".join(_INNER_QUOTE_MARKS.sub("\n", text).split())


def trimmed_spans(text: str, matches: Iterable[re.Match[str]]) -> list[tuple[int, int]]:
    """Each match's (start, end) in `text` without the whitespace around it; matches of only whitespace left out."""
    spans = []
    for match in matches:
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _rows(lines: list[re.Match[str]]) -> list[bool]:
    """Whether each line is a table row."""
    barred = [_CELL_BAR in line.group() for line in lines]
    return [_TABLE_ROW.match(line.group()) is not None
            or (barred[i] and ((i > 0 and barred[i - 1]) or (i + 1 < len(lines) and barred[i + 1])))
            for i, line in enumerate(lines)]


def table_header(text: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the first row of the table whose row holds offset `start` of `text`; None when that line is
    not a table row or is the first row itself."""
    lines, rows, at = _row_at(text, start)
    if at is None or not rows[at]:
        return None
    first = at
    while first > 0 and rows[first - 1]:
        first -= 1
    if first == at or not _heads_table(lines, first):
        return None
    spans = trimmed_spans(text, [lines[first]])
    return spans[0] if spans else None


def is_label(text: str, start: int, end: int, heading: str = "", file_type: str = "") -> bool:
    """Whether the sentence at `start`:`end` of a chunk's `text` names what follows rather than saying anything: a
    heading (a "#" line, an org-mode or AsciiDoc heading line in a file of `file_type` "org" or "adoc", or a line
    that is one of the chunk's `heading` path, which is how the Word, PDF and HTML loaders write theirs, or a line
    underlined with an adornment: Markdown's setext title, reStructuredText's) or the first row of a table of two
    or more rows that heads it (`_heads_table`) or the rule line under it, or the fields opening a document under its
    title (`_opening_fields`)."""
    sentence = one_line(text[start:end])
    headings = heading.split(HEADING_JOIN)
    if sentence.startswith("#") or sentence in headings or _CALLOUT.match(sentence):
        return True
    if _opening_fields(text, start, end, headings):
        return True
    if file_type in _HEADING_LINE and _is_heading_line(_line_at(text, start), file_type):
        return True
    if file_type != "adoc" and _underlined(text, start, end):  # AsciiDoc's "----" closes a block: no underline
        return True
    label = _LABEL_LINE.get(file_type)
    if label is not None and label.fullmatch(_line_at(text, start)):
        return True
    if "|" not in sentence:
        return False
    if _RULE_ROW.fullmatch(sentence):  # a table's rule line ("| --- | --- |") is layout and says nothing
        return True
    lines, rows, at = _row_at(text, start)
    return (at is not None and rows[at] and (at == 0 or not rows[at - 1])
            and at + 1 < len(lines) and rows[at + 1] and _heads_table(lines, at))


# The rule line under a Markdown or Org table's header row (|---|:--:|, |---+---|).
_RULE_ROW = re.compile(r"[ \t]*\|?[ \t:|+-]*-{3,}[ \t:|+-]*")
# What marks a cell as a value rather than a column's name: it opens with a number or an amount ("15 March 2025",
# "$642.00"), goes on past a comma or a semicolon to more than a unit ("Hotel Adlon, Berlin", not "Price, EUR" nor
# "Amount, €"), ends with a full stop after three words or more ("Paid in full.", not the abbreviation "No."), or
# runs over COLUMN_NAME_WORDS words. Before 2026-12-08 "Price, EUR" and "No." were values, so their tables had no
# header. A year alone names a sheet's column as often as not ("Region | 2024" over "North | 1200").
_VALUE_CELL = re.compile(r"[$€£¥]?\d|.*[,;]\s(?!\s*[^\s,;]{1,3}$)|\S+\s+\S+\s+\S.*\.$")
_YEAR = re.compile(r"(?:19|20)\d\d")
COLUMN_NAME_WORDS = 6
# A cell that is an amount: a number, with a currency before it or a unit of up to three letters after it ("€588.40",
# "£320,000", "120000", "25%", "12 kg"), as opposed to one opening with a number ("15 March 2025", "1871 to 1894",
# "2021 Skoda Octavia") or one of words (`_cell_kind`).
_AMOUNT_CELL = re.compile(r"[$€£¥]?[ \t]?[-+\u2212]?\d[\d,.' \t]*(?:%|[^\W\d_]{1,3})?")


def _cell_kind(cell: str) -> str:
    """What kind of value `cell` is: "amount", "number-led" (a date, a year span, a vehicle), or "words"."""
    if _AMOUNT_CELL.fullmatch(cell):
        return "amount"
    return "number-led" if cell[:1].isdigit() else "words"


def _heads_table(lines: list[re.Match[str]], first: int) -> bool:
    """Whether the first row of a table, `lines[first]`, is its header: it is, unless the table has two columns,
    no rule line under that row, and either a value in that row's second cell (`_VALUE_CELL`), the first record of a
    key-value table ("Vehicle | 2019 Toyota Corolla, reg. KX19 ZTU" over "Renewal date | 15 March 2025", as a Word
    schedule writes one), or values of several kinds (`_cell_kind`) in the second cells of the rows under it: a
    column under its name holds one kind of thing (years over "Years kept at the lighthouse", amounts over "Budget
    2027 (EUR)"), a schedule's fields a name, an address, an amount, a date. Before 2026-12-08 every table's first
    row was its header: no candidate for the best sentence, so `ask --extract "Which vehicle is insured?"` answered
    "Annual premium | $642.00" (a row under that record); later that day still one whose first value was a name:
    "Who is insured?" was answered by "Insurer | Northwind Mutual" (a row under "Insured | Ottoline Varga")."""
    if first + 1 < len(lines) and _RULE_ROW.fullmatch(lines[first + 1].group().rstrip("\r\n")):
        return True
    cells = _cells(lines[first].group())
    if len(cells) != 2:
        return True
    value = cells[1]
    if _YEAR.fullmatch(value) is None and (_VALUE_CELL.match(value) or len(value.split()) > COLUMN_NAME_WORDS):
        return False
    below = []
    for line in lines[first + 1:]:
        row = _cells(line.group())
        if (_CELL_BAR not in line.group() and _TABLE_ROW.match(line.group()) is None) or len(row) != 2:
            break
        below.append(row[1])
    return len({_cell_kind(value) for value in below if value}) < 2


def _cells(row: str) -> list[str]:
    """The cells of the table row `row`, stripped, its outer bars (Markdown's "| a | b |") none."""
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


# A field of the block a mail, an Evernote or a Keep note opens with under its title ("From: Dan Moss <dan@...>").
_FIELD_LINE = re.compile(r"(?:From|To|Cc|Bcc|Date|Created|Updated|Edited|Tags|Labels|In Keep|Attachments|Link):\s+\S")


def _opening_fields(text: str, start: int, end: int, headings: list[str]) -> bool:
    """Whether the sentence at `start`:`end` is lines of "Field: value" that open the document under its title: they
    are searchable, but every mail's summary opened with "From: Dan Moss <dan@acme.com> To: team@acme.com Date:
    ...", and every Evernote note's with "Created: ... Tags: home"."""
    own = text[text.rfind("\n", 0, start) + 1 : end].split("\n")
    before = [line.strip() for line in text[: text.rfind("\n", 0, start) + 1].split("\n") if line.strip()]
    if not before or before[0] not in headings:  # not under the title: a chunk further in
        return False
    return all(_FIELD_LINE.match(line.strip()) for line in own if line.strip()) and all(
        line in headings or _FIELD_LINE.match(line) for line in before)


def _underlined(text: str, start: int, end: int) -> bool:
    """Whether the sentence at `start`:`end` is a whole line with an adornment at least as long under it
    (`ADORNMENT`), as reStructuredText writes a title: one even where the chunk's heading path does not name it."""
    line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    if line_end < 0 or text[line_start:start].strip(" \t>") or text[end:line_end].strip():
        return False
    under = text[line_end + 1:].partition("\n")[0]
    marks = _QUOTE_MARKS.match(under)
    under = under[marks.end() if marks else 0:].strip()
    return ADORNMENT.fullmatch(under) is not None and len(under) >= end - start


def _line_at(text: str, start: int) -> str:
    """The line of `text` that holds offset `start`, without its line break and quote marks."""
    line = text[text.rfind("\n", 0, start) + 1:].partition("\n")[0]
    marks = _QUOTE_MARKS.match(line)
    return line[marks.end():] if marks else line


def _row_at(text: str, start: int) -> tuple[list[re.Match[str]], list[bool], int | None]:
    """`text`'s lines, whether each is a table row, and the index of the line holding offset `start`."""
    lines = list(_LINE.finditer(text))
    at = next((i for i, line in enumerate(lines) if line.start() <= start < line.end()), None)
    return lines, _rows(lines), at


# A record's line opens with a short label and ": " ("Total due: $1,856.01", "Part 1250: price $5,522.43, weight
# 66.4 kg", "MwSt. 19 %: 325,77 €", "Bill to: Greenfield Catering LLC"): up to RECORD_LABEL_WORDS words before the
# colon, no cell bar; a time's or a link's colon has no space after it.
_RECORD_LABEL = re.compile(r"[ \t]*([^\s:|>][^:\n|]{0,39}?):[ \t]+\S")
RECORD_LABEL_WORDS = 5
# Lines that open alike ("RE 4014 | ...", "Part 1250 ...") are records when this many or more follow each other.
RECORD_RUN = 3


# A setting's line, `key = value` (TOML, INI): a paragraph of nothing else is a record of each.
_ASSIGNMENT = re.compile(r"[ \t]*[A-Za-z_][\w.-]{0,39}[ \t]*=[ \t]*\S")


# A YAML key's line, with its value or opening a mapping ("  host: db.internal", "database:"); a TOML or INI section's
# header ("[database]", "[tool.ruff]"); and the lines a section may hold besides its keys (blank, a comment).
_YAML_KEY = re.compile(r"([ \t]*)[\w.-]{1,40}:(?:[ \t]+\S.*)?")
_YAML_PARENT = re.compile(r"([ \t]*)([\w.-]{1,40}):[ \t]*(?:#.*)?")
_SECTION = re.compile(r"[ \t]*\[\[?[^\[\]\n]{1,60}\]\]?[ \t]*")
_NO_KEY = re.compile(r"[ \t]*(?:[#;].*)?")


def key_path(text: str, start: int) -> str:
    """The keys a data file's key at offset `start` of `text` stands under, as its file writes them: a YAML key's
    parents ("database:" for "  host: db.internal" under "database:", "database: pool:" a level deeper), a TOML or
    INI setting's section ("[database]" for "host = db.internal"); "" for a line that is no such key or stands under
    none. Read alone, "host: db.internal" and "host: 0.0.0.0" are alike, and before 2026-12-08 `ask --extract "what
    is the database host?"` quoted the server's, verified."""
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start:].partition("\n")[0]
    yaml = _YAML_KEY.fullmatch(line)
    if yaml is None and _ASSIGNMENT.match(line) is None:
        return ""  # most sentences: the lines above are not read
    lines = text[:max(line_start - 1, 0)].split("\n") if line_start else []
    if yaml is not None:
        parents, indent = [], len(yaml.group(1))
        for above in reversed(lines):
            if not above.strip() or above.lstrip().startswith("#"):
                continue
            parent = _YAML_PARENT.fullmatch(above)
            if len(above) - len(above.lstrip()) >= indent:
                if _YAML_KEY.fullmatch(above) is None:
                    return ""  # a sibling that is no key: not a mapping
                continue
            if parent is None:
                return ""
            parents.append(f"{parent.group(2)}:")
            indent = len(parent.group(1))
            if not indent:
                break
        return " ".join(reversed(parents))
    for above in reversed(lines):
        if _SECTION.fullmatch(above):
            return above.strip()
        if not (_ASSIGNMENT.match(above) or _NO_KEY.fullmatch(above)):
            return ""
    return ""


def _record_label(line: str) -> str | None:
    """The label a record's line opens with ("Total due" of "Total due: $1,856.01"), else None."""
    match = _RECORD_LABEL.match(line)
    return match.group(1) if match and len(match.group(1).split()) <= RECORD_LABEL_WORDS else None


# A date opening a line, as a statement or a log writes it: "2026-03-14", "14.03.2026", "03/14/2026", "14 Mar 2026",
# "Mar 14, 2026".
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DATE_LEAD = re.compile(rf"[ \t]*(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}"
                        rf"|\d{{1,2}}[ \t]+{_MONTH}[ \t]+\d{{4}}|{_MONTH}[ \t]+\d{{1,2}},?[ \t]+\d{{4}})(?![\w/.-])")
# A field whose value ends on its line: a label and one or two words holding a digit ("Total due: $412.90").
_FIELD_VALUE = re.compile(r"(?=[^\n]*\d)\S+(?:[ \t]+\S+)?[ \t]*")


def _records(contents: list[str]) -> list[bool]:
    """Whether each line (without its line break and quote marks) is a record of a paragraph of them, so a unit of
    its own: an invoice's, a catalogue's or a timetable's lines, written one to a line without a full stop, were
    read as a wrapped paragraph's, and `ask --extract "What is the total due on invoice US-5521?"` quoted "INVOICE
    #US-5521 Invoice date: December 7, 2026 Bill to: Greenfield Catering LLC"; a 400-line catalogue was one
    sentence ending wherever a price's full stop fell. A paragraph's records are its lines that open with a label
    (`_record_label`) where two or more of them do with a capital or a digit (a wrapped line of prose opens with a
    lower-case word), or every line does in any case ("host: db1" / "port: 5432"); and a run of RECORD_RUN or more
    lines opening with the same word, capitalised or a number ("RE 4014 Lindenau 07:15"), which a wrapped
    paragraph's lines do not; a run of two or more lines each opening with a date (`_DATE_LEAD`: a statement's
    "2026-03-14  Card payment Bakery Lenz  -4.50 EUR", whose first words differ); where labels open most of the
    lines, every line opening with a capital or a digit; and a field whose value ends on its line ("Total due:
    $412.90", `_FIELD_VALUE`) with the line after it, opening so: before 2026-12-07 a bank statement's page was one
    sentence, and "INVOICE 1002" / "Total due: $412.90" / "Payable within 30 days ..." another. A line without a
    label after a record goes on with it (a value wrapped onto the next line), and hard-wrapped prose stays one
    sentence over its lines."""
    records = [False] * len(contents)
    start = 0
    for end in range(len(contents) + 1):
        if end < len(contents) and contents[end].strip():
            continue
        labels = [_record_label(contents[i]) for i in range(start, end)]
        capital = sum(label is not None and (label[0].isupper() or label[0].isdigit()) for label in labels)
        opens_line = [(line.lstrip()[:1].isupper() or line.lstrip()[:1].isdigit()) for line in contents[start:end]]
        labelled = sum(label is not None for label in labels)
        if len(labels) >= 2 and all(_ASSIGNMENT.match(line) for line in contents[start:end]):
            # Settings one to a line, as TOML writes them (a Hugo post's front matter: `title = "Beekeeping Diary"`):
            # read as a wrapped paragraph, `summarize` quoted its lines as one key sentence.
            records[start:end] = [True] * (end - start)
        if capital >= 2 or (len(labels) >= 2 and all(labels)):
            for i, label in enumerate(labels, start=start):
                records[i] = label is not None or (2 * labelled > len(labels) and opens_line[i - start])
        for i, label in enumerate(labels, start=start):
            field = label is not None and (label[0].isupper() or label[0].isdigit()) and _FIELD_VALUE.fullmatch(
                contents[i].rstrip("\r\n").split(":", 1)[1].strip()) is not None
            if field:
                records[i] = True
                if i + 1 < end and opens_line[i + 1 - start]:
                    records[i + 1] = True
        dated = [_DATE_LEAD.match(line) is not None for line in contents[start:end]]
        for i, date in enumerate(dated):
            if date and ((i and dated[i - 1]) or (i + 1 < len(dated) and dated[i + 1])):
                records[start + i] = True
        first = [(line.split() or [""])[0] for line in contents[start:end]]
        run = 0
        for i, word in enumerate(first):
            run = run + 1 if i and word == first[i - 1] and (word[:1].isupper() or word[:1].isdigit()) else 1
            if run >= RECORD_RUN:
                records[start + i - run + 1:start + i + 1] = [True] * run
        start = end + 1
    return records


def _units(text: str, file_type: str = "") -> list[tuple[int, int, bool]]:
    """Spans of `text` that no sentence crosses: paragraphs, and in them each list item, table row or heading (as
    `file_type` marks its headings); a blockquote, and in it the same, and a callout's first line. Each with whether
    it is a table row."""
    units: list[tuple[int, int, bool]] = []
    start = 0
    row_unit = False  # the unit going on is a table row
    alone = False  # the line before is a unit by itself: a heading, a table row or a callout's first line
    before: str | None = None  # the line before, without its quote marks
    in_list = False  # the unit going on was opened by a list item's mark
    was_depth = 0  # the quote marks on the line before: a quote, or one nested deeper or less, starts a unit
    lines = list(_LINE.finditer(text))
    quotes = [_QUOTE_MARKS.match(line.group()) for line in lines]
    # Each line without its blockquote's marks (its line break kept).
    contents = [line.group()[marks.end() if marks else 0:] for line, marks in zip(lines, quotes, strict=True)]
    for line, marks, row, content, record in zip(lines, quotes, _rows(lines), contents, _records(contents),
                                                 strict=True):
        # A quote's line of ">" alone parts its paragraphs, as a blank line does, and so does an adornment: the
        # title over it is a unit of its own.
        blank = not content.strip() or ADORNMENT.fullmatch(content.strip()) is not None
        callout = marks is not None and _CALLOUT.match(content.lstrip()) is not None
        depth = marks.group().count(">") if marks else 0
        heading = _is_heading_line(content.rstrip("\r\n"), file_type)
        own = _is_own_line(content.rstrip("\r\n"), file_type)
        item = _OPENS_UNIT.match(content) is not None and not dash_goes_on(content, before, in_list=in_list or alone)
        clause = _clause_opens(content, before)
        opens = blank or alone or row or callout or heading or own or item or clause or record or depth != was_depth
        if line.start() > start and opens:
            units.append((start, line.start(), row_unit))
            start = line.start()
        if start == line.start():  # a unit begins at this line
            in_list, row_unit = item, row
        if blank:
            start = line.end()
        alone = row or callout or heading or own
        was_depth = depth
        before = content
    if start < len(text):
        units.append((start, len(text), row_unit))
    return units
