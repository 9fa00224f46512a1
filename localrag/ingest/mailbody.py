"""A mail body as its sender wrote it: quoted earlier mails and the signature left out, as mail clients fold them.

A reply carries the mail it answers, and that one the mail before it: indexed whole, a thread of five mails held
the first one five times, and a question about it was answered from the last reply, three ">" deep, while the
mail that said it was not among the sources. What is left out of a reply in an .mbox (`fold_quotes`: an
In-Reply-To or References header, or a "Re:" subject), where the mail it quotes is likely its own document:

- lines quoted with ">" after an attribution line ("On ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :",
  ...), and that line; answers written between quoted lines (bottom-posting) stay, and so do ">" lines no
  attribution introduces (a quoted proverb);
- an Outlook-style quoted tail: "-----Original Message-----", or a line of underscores, or none, then "From: ..."
  (a mail address in it, unless after the "Original Message" rule), "Sent: ..." and "Subject: ..." header lines,
  to the end of the body (not in a forward, "FW: ...", where that tail is its content).

A lone .eml, or a mail that is no reply, keeps its quotes: a saved reply quoting a mail not in the index lost the
only copy of what it quoted. Every mail loses the signature after the "-- " line, up to an inline forward.

An inline forward ("---------- Forwarded message ---------", "Begin forwarded message:") is the mail's content:
everything from it on stays. An HTML body loses Gmail's and Thunderbird's signature blocks and, where quotes are
folded, Gmail's quote, a `type="cite"` <blockquote> and Outlook's reply header with what follows it; a plain
<blockquote> stays. Nothing in the text says where a quote was left out: such a line in every reply would itself
be search noise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

_QUOTED = re.compile(r"^[ \t]*>")
# The line a mail client writes above a quote, in the common languages; it may wrap onto a second line.
_ATTRIBUTION = re.compile(
    r"(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|kirjoitti|napisał|написал\(а\)|написал)"
    r"[^:\n]{0,80}?\s?:\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--[ \t]?$")
_FORWARD = re.compile(
    r"^[ \t]*(?:-{3,}\s*(?:Forwarded message|Original Message follows|Weitergeleitete Nachricht|Message transféré|"
    r"Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht)\s*-{3,}|Begin forwarded message:|"
    r"Anfang der weitergeleiteten Nachricht:|Début du message réexpédié :?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_OUTLOOK_RULE = re.compile(
    r"^[ \t]*(?:-{3,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|"
    r"Messaggio originale|Oorspronkelijk bericht)\s*-{3,}|_{10,})\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^[ \t]*\*?(?:From|Von|De|Da|Van)\s?:", re.IGNORECASE)
# A quoted header's sender is a mail address: "From: Frankfurt (FRA)" in a booking mail is not one.
_ADDRESS = re.compile(r"@|<[^>]+>|\[mailto:", re.IGNORECASE)
_OUTLOOK_SUBJECT = re.compile(r"^[ \t]*\*?(?:Subject|Betreff|Objet|Asunto|Oggetto|Onderwerp)\s?:", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(
    r"^[ \t]*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Fecha|Inviato|Data|Verzonden)(?: el)?\s?:", re.IGNORECASE
)
# A forward's subject: its Outlook header block is the forwarded mail, not a quote.
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|tr|rv|i|doorst)\s*:", re.IGNORECASE)
# A reply's subject; with an In-Reply-To or References header, what makes a mail a reply whose quotes may be folded.
REPLY_SUBJECT = re.compile(r"^\s*(?:re|aw|sv|antw|vs|r)\s*:", re.IGNORECASE)


def _outlook_tail(lines: list[str], at: int) -> bool:
    """Whether an Outlook quoted tail starts at line `at`: its rule, or a From: line, then a Sent: line close by and
    a Subject: line in the block. Without the "Original Message" rule the From: line must hold a mail address: a
    travel desk's "From: Frankfurt (FRA)" / "Date: 14 April" block lost the booking after it."""
    rule = _OUTLOOK_RULE.match(lines[at])
    start = at + 1 if rule else at
    head = [line for line in lines[start : start + 8] if line.strip()]
    if not head or not _OUTLOOK_FROM.match(head[0]):
        return False
    if not (rule and "-" in lines[at]) and not _ADDRESS.search(head[0]):
        return False
    alone = start > at or at > 0 and not lines[at - 1].strip()
    return (alone and any(_OUTLOOK_SENT.match(line) for line in head[1:5])
            and any(_OUTLOOK_SUBJECT.match(line) for line in head[2:8]))


def fold_plain(body: str, forward: bool = False, *, quotes: bool) -> str:
    """`body` without its signature and, where `quotes` (a reply in an .mbox: `fold_quotes`), without its quoted
    mails: ">" lines after an attribution line ("On ... wrote:"), and an Outlook quoted tail. `forward`: the mail is a
    forward ("FW: ..."), so an Outlook header block in it is the forwarded mail and stays. ">" lines with no
    attribution before them (a quoted proverb, a Markdown quote) are the sender's text and stay."""
    lines = body.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    in_signature = False
    quoting = False  # an attribution line was met: the ">" lines from here on are the quoted mail
    for number, line in enumerate(lines):
        if _FORWARD.match(line) and not _QUOTED.match(line):
            kept.extend(lines[number:])  # the forwarded mail is this mail's content, quotes and all
            break
        if quotes and not forward and _outlook_tail(lines, number):
            break
        if quotes and _QUOTED.match(line):
            quoting = _drop_attribution(kept) or quoting
            if quoting:
                continue
        if _SIGNATURE.match(line):
            in_signature = True
        if not in_signature:
            kept.append(line)
    return "\n".join(kept)


def _drop_attribution(kept: list[str]) -> bool:
    """Take the "On ... wrote:" line (one or two lines, wrapped) off the end of `kept`, blank lines after it too;
    whether there was one."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if not end or not _ATTRIBUTION.search(kept[end - 1]):
        return False
    start = end - 1
    # "On Tue, 3 Mar 2026 at 10:00, Bob Keller <" / "bob@example.org> wrote:": a client wraps a long one.
    if start and kept[start - 1].strip() and len(kept[start - 1]) + len(kept[start]) < 200:
        wrapped = kept[start - 1].lstrip()
        if re.match(r"(?:On|Am|Le|El|Il|Op|Em|Den|Dnia)\b", wrapped) and not wrapped.rstrip().endswith((".", "!", "?")):
            start -= 1
    del kept[start:]
    return True


def fold_quotes(in_mbox: bool, subject: str, reply_headers: bool) -> bool:
    """Whether a mail's quoted mails are folded: it is a reply (`reply_headers`: an In-Reply-To or References header,
    or a "Re:" subject) in an .mbox, where the mail it quotes is likely a document of its own. A saved reply.eml
    quoting a mail not in the index lost "The penalty for late delivery is 2 percent per week" with its quote."""
    return in_mbox and (reply_headers or bool(REPLY_SUBJECT.match(subject)))


def fold_html(soup: BeautifulSoup, forward: bool = False, *, quotes: bool) -> None:
    """Take Gmail's and Thunderbird's signature out of an HTML body and, where `quotes` (`fold_quotes`), the quoted
    mail: a Gmail quote or a `type="cite"` <blockquote> (Apple Mail, Thunderbird), with its attribution, and
    Outlook's reply header with what follows it. A plain <blockquote> (a newsletter quoting a customer) stays."""
    # Gmail wraps a forward in the same block as a quote: the forward is the mail's content, its quotes too.
    forwards = [element for element in soup.select(".gmail_quote") if _FORWARD.search(element.get_text("\n"))]
    quoted = ', .gmail_quote, blockquote[type="cite"], .moz-cite-prefix' if quotes else ""
    for element in soup.select(f".gmail_signature, .moz-signature{quoted}"):
        inside = (element, *element.parents)
        if not element.decomposed and not any(kept is forward for kept in inside for forward in forwards):
            element.decompose()
    reply_header = soup.select_one("#divRplyFwdMsg, #x_divRplyFwdMsg") if quotes and not forward else None
    if reply_header is not None:
        rule = reply_header.find_previous_sibling()
        for sibling in list(reply_header.find_next_siblings()):
            sibling.decompose()
        if rule is not None and rule.name == "hr":
            rule.decompose()
        reply_header.decompose()
