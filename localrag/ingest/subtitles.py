"""Meeting transcripts and subtitles: WebVTT (.vtt, what Teams, Zoom and YouTube export) and SubRip (.srt).

Each cue is read as one line of speech, `[00:00:14] Alice Chen: Then I am deciding to postpone...`: its start time to
the second, its speaker (a WebVTT `<v Alice Chen>` voice tag, or an .srt cue that opens with `Name:`), its text. A cue
that names no speaker goes on with the one an .srt or Zoom `Name:` named last (they name a speaker where the speaker
changes) for as long as no pause of over `_CARRY_SECONDS` comes between cues, until a line marks a new one: a `[NAME]`
or `(NAME)` label names it, a dialogue dash ("- Thanks.", subtitles' sign of a change of speaker) leaves it unknown; a
sound's or a note's label ("(SIGHS)", "Note:") does neither. A cue that ends mid-sentence is joined by the speaker's
next one (Teams cuts a sentence into cues of a few words), up to `_TURN_CHARS` characters; a cue that opens a sentence
keeps its own line and time, so a quote stays by the time that finds it in the recording. What a player does not show as
speech is left out: cue numbers and identifiers, timing lines and their cue settings, the header's metadata, NOTE, STYLE
and REGION blocks, inline tags (`<c.yellow>`, `<b>`, `<i>`, `<00:00:15.120>`, .srt's `<font>` and `{\\an8}`); entities
(`&amp;`, `&nbsp;`) are decoded. Read as text, every timing line and cue number was in the index, a title was "WEBVTT"
or "1", and `--extract` quoted "3 00:00:14.300 --> 00:00:22.900 <v Alice Chen>Then...".

The text is rebuilt, not the file's own, so a chunk has no line numbers; the time at the start of each line is
where a citation points in the recording. Each line is a paragraph: the chunker packs whole turns.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from localrag.errors import LoaderError
from localrag.ingest.structure import squash
from localrag.types import LoadedText, Section

# A joined turn is cut after this many characters: a five-minute monologue as one line would carry its first cue's
# time to every chunk of it.
_TURN_CHARS = 500

_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<\d[\d:.]*>|\{\\[^}]*\}")
# A cue's "Alice Chen: ..." or "ALICE: ..." (Zoom's and .srt's speakers): up to four words before a colon, each
# capitalised (`_named`), in any script that has capitals ("Élodie Martin:").
_SPEAKER = re.compile(r"^(?P<name>[^\W\d_][\w'.-]*(?:[ \t][^\W\d_][\w'.-]*){0,3})[ \t]*:[ \t]+(?=\S)")
# A subtitle's "[DRIVER] The road..." or "(Maria) Yes.": a speaker's label in brackets before speech, each word
# capitalised as a name is (`_named`); "[laughs] Yes." describes a sound and names no one.
_LABEL = re.compile(r"^[\[(](?P<name>[^\W\d_][\w'.-]*(?:[ \t][^\W\d_][\w'.-]*){0,3})[\])][ \t]*(?=\S)")
# Words of a sound or stage direction ("(SIGHS)", "[MUSIC PLAYING]", "[DOOR CLOSES]"): a label holding one is no
# speaker, though capitalised as a name is: read as one, "(SIGHS) I don't know why." was said by "SIGHS", and so was
# every cue after it that named no one.
_SOUNDS = frozenset({
    "applause", "beep", "beeps", "cheering", "cheers", "chuckles", "chuckling", "clapping", "claps", "clears",
    "closes", "coughing", "coughs", "crosstalk", "crying", "gasps", "groans", "inaudible", "indistinct", "knocking",
    "knocks", "laughing", "laughs", "laughter", "music", "noise", "opens", "pause", "ringing", "rings", "screams",
    "sighing", "sighs", "silence", "singing", "sobbing", "sobs", "static", "unintelligible", "whispering", "whispers",
})
# Labels that open a line as a name does but name no one ("Note: this part is off the record.", "Q: ..."):
# "Note" went on speaking every cue after it.
_NOT_NAMES = frozenset({"a", "action", "action item", "answer", "note", "q", "question", "summary", "update",
                        "warning"})
# Past this many seconds of no speech, a `Name:` no longer speaks the cues that name no one: .srt and Zoom name a
# speaker where the speaker changes, but across a pause the talk has often moved on (a cut, a new scene, someone
# else's answer) and an unnamed line is safer than one put in the wrong mouth.
_CARRY_SECONDS = 10
# A dialogue dash opens a line where the speaker changes ("- It left at noon.\n- Thanks."); "-5 degrees" is no dash.
_DASH = re.compile(r"^[-\u2010\u2013\u2014][ \t]*(?=[^\d\s])")
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"')\]\u201d\u2019]*$")
_BLOCKS = re.compile(r"\n[ \t]*\n")
_NOT_SPEECH = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t]|$)")
_HEADER = re.compile(r"^WEBVTT(?:[ \t]+(?P<text>.*))?$")


def load_subtitles(path: Path, text: str) -> LoadedText:
    """`text` is the file's decoded text (.vtt or .srt); raises LoaderError when it holds no timed cue."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    title = ""
    turns: list[tuple[str, str, str]] = []  # (time, speaker, text)
    last_line = ("", "")
    named = ""  # the speaker the last `Name:` opened a cue for, who goes on speaking in cues that name no one
    last_end = 0  # where the cues so far end, in seconds
    for number, block in enumerate(_BLOCKS.split(text.strip())):
        lines = block.strip("\n").split("\n")
        header = _HEADER.match(lines[0].strip()) if number == 0 else None
        if header is not None:
            # The header's own text names the file ("WEBVTT - Weekly sync"); the lines under it are metadata.
            title = squash((header.group("text") or "").strip(" \t-:"))
            continue
        if _NOT_SPEECH.match(lines[0]):
            continue
        timing = next((i for i, line in enumerate(lines[:3]) if _TIMING.match(line)), None)
        if timing is None:
            continue
        cue = _TIMING.match(lines[timing])
        time = _clock(cue)
        start, end = _seconds(cue, 1), _seconds(cue, 4)
        if start - last_end > _CARRY_SECONDS:
            named = ""
        last_end = max(last_end, end)
        in_cue = False
        spoken, named = _speech(lines[timing + 1:], named)
        for speaker, said, opens in spoken:
            # Rolling captions (YouTube's) repeat the line before as each cue's first line.
            if last_line == (speaker, said):
                continue
            last_line = (speaker, said)
            # A line that marks a change of speaker is a turn of its own, even when both speakers are unknown.
            if turns and not opens and turns[-1][1] == speaker and (in_cue or _unfinished(turns[-1][2])):
                turns[-1] = (turns[-1][0], speaker, f"{turns[-1][2]} {said}")
            else:
                turns.append((time, speaker, said))
            in_cue = True
    if not turns:
        if text.strip() and not (title or _HEADER.match(text.strip().split("\n", 1)[0])):
            raise LoaderError(f"{path}: no timed cues (no line like 00:00:14.300 --> 00:00:22.900)",
                              "if it is plain text, name it .txt")
        return LoadedText("", (), title or path.stem)
    out: list[str] = []
    sections = []
    length = 0
    for time, speaker, said in turns:
        line = f"[{time}] {speaker}: {said}" if speaker else f"[{time}] {said}"
        sections.append(Section(length, length + len(line), "paragraph"))
        out.append(line)
        length += len(line) + 1
    return LoadedText("\n".join(out), tuple(sections), title if any(c.isalpha() for c in title) else path.stem)


def _unfinished(turn: str) -> bool:
    """Whether the next cue of the speaker goes on `turn`: a sentence cut between cues, in a turn still short."""
    return len(turn) < _TURN_CHARS and not _SENTENCE_END.search(turn)


def _clock(timing: re.Match[str] | None) -> str:
    """A cue's start as hh:mm:ss."""
    assert timing is not None
    hours, minutes, seconds = timing.group(1) or "0", timing.group(2), timing.group(3)
    return f"{int(hours):02d}:{minutes}:{seconds}"


def _seconds(timing: re.Match[str] | None, group: int) -> int:
    """The time whose hours are `timing`'s group `group` (the start's 1, the end's 4), in whole seconds."""
    assert timing is not None
    hours, minutes, seconds = timing.group(group) or "0", timing.group(group + 1), timing.group(group + 2)
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def _speech(lines: list[str], named: str) -> tuple[list[tuple[str, str, bool]], str]:
    """(speaker, text, whether it opens a turn) per line of a cue's payload, and the speaker a `Name:` or `[NAME]`
    named last (`named` before the cue), "" once a dialogue dash changed the speaker to one unnamed.

    A `<v Name>` tag holds for the lines after it until another; it names only its cue's voice (WebVTT tags every
    cue). A `Name:` (.srt's, Zoom's) is written where the speaker changes, so its speaker goes on in the lines and
    cues that name no one: before, such a cue had no speaker, and "Maria: We moved the warehouse" was not joined by
    her next cue, "to Rotterdam in April...", whose line then said nobody moved it. A `[NAME]`/`(NAME)` label is one
    too, and a dialogue dash ends it: before, "- It left for Rotterdam at noon." and "[DRIVER] The road was
    closed" were said by the Maria named cues before, and an extract quoted her for them. A sound's label
    ("(SIGHS)", "[Music]") or a note's ("Note:", "Q:") neither names nor ends a speaker (`_named`)."""
    said: list[tuple[str, str, bool]] = []
    speaker = named
    for line in lines:
        voice = _VOICE.search(line)
        if voice is not None:
            speaker, named = squash(html.unescape(voice.group(1))), ""
        plain = squash(html.unescape(_TAG.sub("", line)).replace("\u200e", "").replace("\u200f", ""))
        dash = _DASH.match(plain)
        if dash is not None:
            plain = plain[dash.end():]
            if voice is None:
                speaker = named = ""
        opens = dash is not None
        if voice is None:
            name = _SPEAKER.match(plain) or _LABEL.match(plain)
            if name is not None and _named(name.group("name")):
                speaker = named = name.group("name")
                plain = plain[name.end():]
                opens = True
        if plain:
            said.append((speaker, plain, opens))
    return said, named


def _named(label: str) -> bool:
    """Whether a label is written as a name: each word capitalised ("Alice Chen", "DRIVER"), not "well" or "laughs",
    and neither a sound ("SIGHS", "Door Closes") nor a note's label ("Note", "Q")."""
    words = label.lower().split()
    return (all(word[0].isupper() for word in label.split()) and " ".join(words) not in _NOT_NAMES
            and not _SOUNDS.intersection(words))
