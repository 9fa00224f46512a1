"""A mail body as its sender wrote it: quoted earlier mails and the signature left out, as mail clients fold them.

A reply carries the mail it answers, and that one the mail before it: indexed whole, a thread of five mails held
the first one five times, and a question about it was answered from the last reply, three ">" deep, while the
mail that said it was not among the sources. What is left out of a plain-text body:

- lines quoted with ">", and the attribution line before them ("On ... wrote:", "Am ... schrieb ...:", "Le ... a
  écrit :", ...); answers written between quoted lines (bottom-posting) stay;
- an Outlook-style quoted tail: "-----Original Message-----", or a line of underscores, then "From: ..." and
  "Sent: ..." header lines, to the end of the body (not in a forward, "FW: ...", where that tail is its content);
- the signature after the "-- " line, up to an inline forward.

An inline forward ("---------- Forwarded message ---------", "Begin forwarded message:") is the mail's content:
everything from it on stays. An HTML body loses its <blockquote>s, Gmail's quote and signature blocks, and
Outlook's reply header with what follows it. Nothing in the text says where something was left out: such a line
in every reply would itself be search noise; the quoted mail is its own document when it is in the mailbox.
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
_OUTLOOK_SENT = re.compile(
    r"^[ \t]*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Fecha|Inviato|Data|Verzonden)(?: el)?\s?:", re.IGNORECASE
)
# A forward's subject: its Outlook header block is the forwarded mail, not a quote.
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|tr|rv|i|doorst)\s*:", re.IGNORECASE)


def _outlook_tail(lines: list[str], at: int) -> bool:
    """Whether an Outlook quoted tail starts at line `at`: its rule, or a From: line, then a Sent: line close by."""
    start = at + 1 if _OUTLOOK_RULE.match(lines[at]) else at
    head = [line for line in lines[start : start + 8] if line.strip()]
    if not head or not _OUTLOOK_FROM.match(head[0]):
        return False
    return (start > at or at > 0 and not lines[at - 1].strip()) and any(_OUTLOOK_SENT.match(line) for line in head[1:5])


def fold_plain(body: str, forward: bool = False) -> str:
    """`body` without its quoted lines, their attributions, its Outlook quoted tail and its signature. `forward`: the
    mail is a forward ("FW: ..."), so an Outlook header block in it is the forwarded mail and stays."""
    lines = body.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    in_signature = False
    for number, line in enumerate(lines):
        if _FORWARD.match(line) and not _QUOTED.match(line):
            kept.extend(lines[number:])  # the forwarded mail is this mail's content, quotes and all
            break
        if not forward and _outlook_tail(lines, number):
            break
        if _QUOTED.match(line):
            _drop_attribution(kept)
            continue
        if _SIGNATURE.match(line):
            in_signature = True
        if not in_signature:
            kept.append(line)
    return "\n".join(kept)


def _drop_attribution(kept: list[str]) -> None:
    """Take the "On ... wrote:" line (one or two lines, wrapped) off the end of `kept`, blank lines after it too."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if not end or not _ATTRIBUTION.search(kept[end - 1]):
        return
    start = end - 1
    # "On Tue, 3 Mar 2026 at 10:00, Bob Keller <" / "bob@example.org> wrote:": a client wraps a long one.
    if start and kept[start - 1].strip() and len(kept[start - 1]) + len(kept[start]) < 200:
        wrapped = kept[start - 1].lstrip()
        if re.match(r"(?:On|Am|Le|El|Il|Op|Em|Den|Dnia)\b", wrapped) and not wrapped.rstrip().endswith((".", "!", "?")):
            start -= 1
    del kept[start:]


def fold_html(soup: BeautifulSoup, forward: bool = False) -> None:
    """Take quotes, Gmail's signature and Outlook's reply header (with what follows it) out of an HTML body."""
    # Gmail wraps a forward in the same block as a quote: the forward is the mail's content, its quotes too.
    forwards = [element for element in soup.select(".gmail_quote") if _FORWARD.search(element.get_text("\n"))]
    for element in soup.select("blockquote, .gmail_quote, .gmail_signature, .moz-cite-prefix, .moz-signature"):
        inside = (element, *element.parents)
        if not element.decomposed and not any(kept is forward for kept in inside for forward in forwards):
            element.decompose()
    reply_header = None if forward else soup.select_one("#divRplyFwdMsg, #x_divRplyFwdMsg")
    if reply_header is not None:
        rule = reply_header.find_previous_sibling()
        for sibling in list(reply_header.find_next_siblings()):
            sibling.decompose()
        if rule is not None and rule.name == "hr":
            rule.decompose()
        reply_header.decompose()
