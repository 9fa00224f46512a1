"""A consultant's .mbox, as a user searches it: each reply quotes the mail before it, every mail ends in a signature
and a confidentiality notice. The fact is found, cited and summed up from the mail that said it."""

from __future__ import annotations

import email.message
import email.utils
import mailbox
import re
from datetime import UTC, datetime
from pathlib import Path

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine

NOTICE = ("CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be privileged. If you "
          "are not the intended recipient, please notify the sender immediately and delete it. Any unauthorised use, "
          "disclosure or copying is prohibited. Keller & Martin Consulting accepts no liability for viruses in this "
          "e-mail.\n\nPlease consider the environment before printing this e-mail.")
PEOPLE = {"bob": ("Bob Keller", "bob@keller.example"), "alice": ("Alice Martin", "alice@martin.example")}


def thread(path: Path) -> None:
    """Five mails of one thread, each quoting the one before (top-posted, as Gmail writes), and three others."""
    box = mailbox.mbox(str(path))
    previous = ""
    mails = [
        ("alice", "Orion renewal terms", "Hi Bob,\n\nCould you confirm the discount for the Orion renewal?"),
        ("bob", "Re: Orion renewal terms",
         "Hi Alice,\n\nI agree to a 12% discount on the Orion renewal, provided the contract runs for three years."),
        ("alice", "Re: Orion renewal terms", "Thanks Bob, I will draft the three-year contract."),
        ("bob", "Re: Orion renewal terms", "Great. The first invoice is due on 31 March 2026, payable within 30 days."),
        ("alice", "Re: Orion renewal terms", "Noted, I have told Carol."),
        ("bob", "Timesheets", "Please send your March timesheets by Thursday."),
        ("bob", "Office move", "The office moves to the fourth floor in April."),
        ("alice", "Training", "The security training is mandatory for all staff."),
    ]
    for number, (who, subject, text) in enumerate(mails, start=1):
        sent = datetime(2026, 3, number + 1, 10, 0, tzinfo=UTC)
        # Bob signs after the "-- " line; Alice's signature has none, as Outlook writes it.
        signature = f"-- \n{PEOPLE[who][0]}" if who == "bob" else f"Kind regards,\n{PEOPLE[who][0]}"
        body = f"{text}\n\n{signature}\nKeller & Martin Consulting | +44 20 7946 0100\n\n{NOTICE}"
        if previous and subject.startswith("Re:"):
            body += "\n\n" + previous
        message = email.message.EmailMessage()
        message["From"] = email.utils.formataddr(PEOPLE[who])
        message["To"] = email.utils.formataddr(PEOPLE["alice" if who == "bob" else "bob"])
        message["Subject"] = subject
        message["Date"] = email.utils.format_datetime(sent)
        message["Message-ID"] = f"<m{number}@mail.example>"
        message.set_content(body)
        box.add(message)
        quoted = "\n".join(f"> {line}".rstrip() for line in body.split("\n"))
        previous = f"On {sent:%a}, {sent.day} {sent:%b %Y} at 10:00, {PEOPLE[who][0]} wrote:\n{quoted}"
    box.close()


def test_a_thread_is_searched_cited_and_summed_up_from_the_mail_that_said_it(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "inbox.mbox"
    thread(path)
    engine = Engine(load_settings(answer_mode="extract"), embedder=real_embedder)
    report = engine.ingest([path])
    assert report.errors == []
    assert any("kept only in the first mail that has each" in note for note in report.notes)
    bob = f"{path}/m2@mail.example"

    # Before: the answer quoted Alice's last reply, three ">" deep, and Bob's own mail was not among the sources.
    answer = engine.ask("What discount did Bob agree to?")
    assert answer.text.startswith('"I agree to a 12% discount on the Orion renewal')
    assert [answer.sources[n - 1].chunk.path for n in answer.cited] == [bob]
    assert answer.sources[0].chunk.heading == "Re: Orion renewal terms — Bob Keller, 3 March 2026"

    # Before: 5 of the 10 hits were quoted signatures and notices.
    hits = engine.search("when is the invoice due", k=10)
    assert hits[0].chunk.path == f"{path}/m4@mail.example"
    assert sum("CONFIDENTIALITY" in hit.chunk.text for hit in hits) <= 1
    assert not any(re.search(r"(?m)^>|wrote:", hit.chunk.text) for hit in hits)

    # Before: the summary of Bob's invoice mail was five sentences of notices and quoted signatures.
    _, summary = engine.summarize(f"{path}/m4@mail.example")
    texts = [sentence.text for sentence in summary.sentences]
    assert "The first invoice is due on 31 March 2026, payable within 30 days." in texts
    assert not any("e-mail" in text or "Keller & Martin" in text for text in texts), texts
    # Before: every mail's summary opened with its "From: ... To: ... Date: ..." block.
    assert not any(text.startswith(("From:", "To:", "Date:")) for text in texts), texts
