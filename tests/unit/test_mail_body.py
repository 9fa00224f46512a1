"""A mail's text is what its sender wrote: quoted mails, attributions, Outlook tails and signatures left out, an
inline forward kept, a paragraph repeated in many mails of an .mbox kept once; its title says who and when.

Real mails, built by the standard library's email and mailbox modules, read through `load_parts`."""

from __future__ import annotations

import email.message
import email.utils
import mailbox
from pathlib import Path

import pytest

from localrag.ingest.parts import load_parts
from localrag.types import LoadedText

DISCLAIMER = ("CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential. If you are not the "
              "intended recipient, please delete it. Any use is prohibited. We accept no liability for viruses.")


def mail(body: str, subject: str = "Re: Orion renewal terms", sender: str = "Bob Keller <bob@example.org>",
         day: int = 3, message_id: str = "") -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "Alice Martin <alice@example.org>"
    message["Date"] = f"Tue, {day:02d} Mar 2026 10:00:00 +0000"
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message


def read(tmp_path: Path, message: email.message.EmailMessage, mbox: bool = True) -> LoadedText:
    """The message's text, read from an .mbox holding it (where a reply's quotes are folded) or from an .eml."""
    path = tmp_path / ("inbox.mbox" if mbox else "mail.eml")
    path.unlink(missing_ok=True)
    if mbox:
        box = mailbox.mbox(str(path))
        box.add(message)
        box.close()
    else:
        path.write_bytes(message.as_bytes())
    loaded = next(iter(load_parts(path))).loaded
    assert loaded is not None
    return loaded


def body(loaded: LoadedText) -> str:
    """The text after the title and the header block."""
    return loaded.text[loaded.sections[2].start :] if len(loaded.sections) > 2 else ""


@pytest.mark.parametrize("attribution", [
    "On Tue, 3 Mar 2026 at 10:00, Alice Martin <alice@example.org> wrote:",
    "On Tue, 3 Mar 2026 at 10:00, Alice Martin <\nalice@example.org> wrote:",  # wrapped by the client
    "Am Di., 3. März 2026 um 10:00 Uhr schrieb Alice Martin <alice@example.org>:",
    "Le mar. 3 mars 2026 à 10:00, Alice Martin <alice@example.org> a écrit :",
    "El mar, 3 mar 2026 a las 10:00, Alice Martin (<alice@example.org>) escribió:",
    "Il giorno mar 3 mar 2026 alle ore 10:00 Alice Martin <alice@example.org> ha scritto:",
])
def test_a_reply_is_its_own_text_without_the_mails_it_quotes(tmp_path: Path, attribution: str) -> None:
    # Indexed whole, a thread held its first mail once per reply, and a question was answered from the last reply,
    # three ">" deep, while the mail that said it was not among the sources.
    quoted = ("> Could you confirm the discount?\n>\n> On Mon, 2 Mar 2026, Carol Diaz wrote:\n> > The renewal is due."
              "\n> > Carol\n")
    loaded = read(tmp_path, mail(f"Hi Alice,\n\nI agree to a 12% discount.\n\nBest,\nBob\n\n{attribution}\n{quoted}"))
    assert body(loaded) == "Hi Alice,\n\nI agree to a 12% discount.\n\nBest,\nBob"


def test_answers_between_quoted_lines_stay(tmp_path: Path) -> None:
    loaded = read(tmp_path, mail("On Sun, 8 Mar 2026 at 10:00, Alice Martin wrote:\n> Can you bring the projector?\n"
                                 "Yes, I will bring it.\n\n> And the signed NDA?\n\nThe NDA is signed.\n"))
    assert body(loaded) == "Yes, I will bring it.\n\nThe NDA is signed."


def test_the_signature_is_left_out_up_to_an_inline_forward_which_stays(tmp_path: Path) -> None:
    forward = ("---------- Forwarded message ---------\nFrom: Carol Diaz <carol@example.org>\nDate: Sat, 7 Mar 2026\n"
               "Subject: Parking\n\nVisitors park in bay 7.\n\n> Where do we park?\n\n-- \nCarol Diaz\nOrion Ltd\n")
    loaded = read(tmp_path, mail(f"FYI, see below.\n\n-- \nBob Keller\n+44 20 7946 0123\n\n{forward}",
                                 subject="Fwd: Parking"))
    # The forwarded mail is this mail's content, as it was sent: its quote and its signature too.
    assert body(loaded) == f"FYI, see below.\n\n{forward.strip()}"
    assert "7946" not in loaded.text


@pytest.mark.parametrize("tail", [
    "-----Original Message-----\nFrom: Alice Martin\nSent: Friday, 6 March 2026 10:00\nTo: Carol\nSubject: Kickoff\n",
    "________________________________\nVon: Alice Martin <alice@example.org>\nGesendet: Freitag, 6. März 2026 10:00\n"
    "An: Carol\nBetreff: Kickoff\n",
    "From: Alice Martin <alice@example.org>\nSent: Friday, 6 March 2026 10:00\nTo: Carol\nSubject: Kickoff\n",
])
def test_an_outlook_quoted_tail_is_left_out_but_not_from_a_forward(tmp_path: Path, tail: str) -> None:
    text = f"I can attend the kickoff.\n\n{tail}\nThe kickoff is on 10 March in Leeds.\n"
    assert body(read(tmp_path, mail(text, subject="RE: Kickoff"))) == "I can attend the kickoff."
    forwarded = body(read(tmp_path, mail(text, subject="FW: Kickoff")))
    assert forwarded.endswith("The kickoff is on 10 March in Leeds.") and "Alice Martin" in forwarded


def test_an_html_reply_loses_its_quote_and_signature_but_keeps_a_forward(tmp_path: Path) -> None:
    html = ('<div dir="ltr">I agree to a 12% discount.<div class="gmail_signature">Bob Keller | Sales</div></div>'
            '<div class="gmail_quote"><div class="gmail_attr">On Mon, 2 Mar 2026, Alice wrote:</div>'
            '<blockquote class="gmail_quote">Could you confirm the discount?</blockquote></div>')
    loaded = read(tmp_path, _html_only(html))
    assert body(loaded) == "I agree to a 12% discount."
    forward = ('<div>FYI</div><div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message '
               '---------<br>From: Carol</div><div>Visitors park in bay 7.</div>'
               '<blockquote>Where do we park?</blockquote></div>')
    kept = body(read(tmp_path, _html_only(forward, "Fwd: Parking")))
    assert "Visitors park in bay 7." in kept and "Where do we park?" in kept
    outlook = ('<div>I can attend.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Alice<br><b>Sent:</b> Friday</div>'
               '<div>The kickoff is in Leeds.</div>')
    assert body(read(tmp_path, _html_only(outlook, "RE: Kickoff"))) == "I can attend."


def _html_only(html: str, subject: str = "Re: Orion renewal terms") -> email.message.EmailMessage:
    message = mail("", subject=subject)
    message.set_content(html, subtype="html")
    return message


def test_the_title_says_who_sent_it_and_when_on_one_line(tmp_path: Path) -> None:
    # Five replies of a thread were five source lines saying "Re: Orion renewal terms".
    loaded = read(tmp_path, mail("I agree.", sender='"Keller, Bob" <bob@example.org>'))
    assert loaded.title == "Re: Orion renewal terms — Keller, Bob, 3 March 2026"
    assert loaded.sections[0].headings == (loaded.title,)  # the heading a source line and a search hit show
    loaded = read(tmp_path, mail("I agree.", sender="bob@example.org"))
    assert loaded.title == "Re: Orion renewal terms — bob@example.org, 3 March 2026"
    no_date = mail("I agree.")
    del no_date["Date"], no_date["From"]
    no_date["From"] = email.utils.formataddr(("Bob\u2028Keller", "bob@example.org"))
    assert read(tmp_path, no_date).title == "Re: Orion renewal terms — Bob Keller"


def test_a_paragraph_in_three_mails_of_an_mbox_stays_in_the_first_only(tmp_path: Path) -> None:
    # A disclaimer in every mail of a 279-mail .mbox held 8 of 10 search hits, and a mail's summary was its disclaimer.
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(path))
    texts = ["The invoice is due on 31 March.", "The kickoff is in Leeds.", "The NDA is signed."]
    for number, text in enumerate(texts, start=1):
        regards = "Best regards,\n  Bob Keller" if number == 1 else "Best  regards,\nBob Keller"
        box.add(mail(f"{text}\n\n{regards}\n\n{DISCLAIMER}\n\nSee you on Friday.",
                     message_id=f"<m{number}@example.org>", day=number))
    box.add(mail("See you on Friday.\n\nThe room is booked.", message_id="<m4@example.org>", day=4))
    box.close()
    parts = [p.loaded for p in load_parts(path)]
    assert all(p is not None for p in parts)
    bodies = [body(p) for p in parts if p is not None]
    assert bodies[0] == f"{texts[0]}\n\nBest regards,\n  Bob Keller\n\n{DISCLAIMER}\n\nSee you on Friday."
    # The disclaimer is left out; paragraphs under 8 words stay (a signature's "Best regards", a real "See you").
    assert bodies[1:3] == [f"{text}\n\nBest  regards,\nBob Keller\n\nSee you on Friday." for text in texts[1:]]
    assert bodies[3] == "See you on Friday.\n\nThe room is booked."
    assert parts[0] is not None and parts[0].left_out == (
        "1 paragraph found in 3 or more of this mailbox's mails (disclaimers, signatures) kept only in the first mail "
        'that has each: "CONFIDENTIALITY NOTICE: This e-mail and any ..."')
    assert all(p is not None and not p.left_out for p in parts[1:])


def test_a_paragraph_in_two_mails_stays_in_both(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(path))
    for number in (1, 2):
        box.add(mail(f"Mail {number}.\n\nThe meeting is at 10:00 in room 4.", message_id=f"<m{number}@example.org>"))
    box.close()
    assert [body(p.loaded) for p in load_parts(path) if p.loaded] == [
        "Mail 1.\n\nThe meeting is at 10:00 in room 4.", "Mail 2.\n\nThe meeting is at 10:00 in room 4."]


def _box(path: Path, *messages: email.message.EmailMessage) -> list[str]:
    box = mailbox.mbox(str(path))
    for message in messages:
        box.add(message)
    box.close()
    return [body(p.loaded) for p in load_parts(path) if p.loaded]


BOOKING = ("Dear Alice,\n\nFrom: Frankfurt (FRA)\nDate: 14 April 2026, 07:35\nTo: Lisbon (LIS)\n"
           "Flight: LH1166, seat 14C, booking reference QZ7K2M\n\nYour hotel is the Casa do Rio, three nights.")


def test_a_from_and_date_block_that_quotes_no_mail_stays(tmp_path: Path) -> None:
    # A travel desk's booking mail was indexed as its first paragraph only: its flight block read as a quoted tail.
    assert _box(tmp_path / "inbox.mbox", mail(BOOKING, subject="Your booking for the Lisbon offsite")) == [BOOKING]
    # In a reply too: "From: Frankfurt (FRA)" holds no mail address, and no Subject: line follows.
    assert body(read(tmp_path, mail(BOOKING, subject="Re: Lisbon offsite"))) == BOOKING


def test_quoted_text_stays_where_nothing_else_holds_it(tmp_path: Path) -> None:
    reply = ("Agreed, see the clause below.\n\nOn Mon, 2 Mar 2026 at 10:00, Carol Diaz <carol@example.org> wrote:\n"
             "> The penalty for late delivery is 2 percent per week.")
    # A saved reply.eml: the mail it quotes is in no index, and its penalty was unfindable.
    assert body(read(tmp_path, mail(reply), mbox=False)) == reply
    assert body(read(tmp_path, mail(reply))) == "Agreed, see the clause below."  # in an .mbox: folded
    # A mail that is no reply, and ">" lines no attribution introduces: the sender's own text.
    proverb = "Our motto this year:\n\n> Ships in harbour are safe, but that is not what ships are for.\n\nSee you."
    assert body(read(tmp_path, mail(proverb, subject="Team kickoff"))) == proverb
    assert body(read(tmp_path, mail(proverb))) == proverb
    # A newsletter quoting a customer in a plain <blockquote>.
    news = "<p>What our customers say:</p><blockquote>Delivery took two days, well packed.</blockquote>"
    assert "Delivery took two days" in body(read(tmp_path, _html_only(news, "Newsletter March")))
    assert "Delivery took two days" in body(read(tmp_path, _html_only(news)))


def test_short_answers_in_many_mails_all_stay(tmp_path: Path) -> None:
    # Three replies saying only "Approved." were kept in the first mail only: Carol's and Dan's approvals vanished.
    people = ["Bob <bob@example.org>", "Carol <carol@example.org>", "Dan <dan@example.org>"]
    bodies = _box(tmp_path / "inbox.mbox", *(mail("Approved.", sender=who, message_id=f"<a{n}@example.org>", day=n)
                                             for n, who in enumerate(people, start=1)))
    assert bodies == ["Approved."] * 3
