"""Chat exports written as JSON, read as the conversation a chat app shows: Telegram Desktop's `result.json`,
DiscordChatExporter's JSON, and a Slack export's day files (`<channel>/<YYYY-MM-DD>.json`, `users.json` at the
export's root).

Each message is one line, `[2024-03-14 09:01] Jonas Weber: I cancelled the gym membership`: its time to the minute
(as the export writes it; Slack's in UTC), its sender's name, its text on one line, the form a chat's `.txt` export
and a meeting transcript's cues are read in (`ingest.subtitles`), so that each message is a sentence of its own with
its sender and time (`sentences.log_units`) and the chunker packs whole messages. Read as other JSON is, as code, an
extract quoted `"guild": {"id": "998877665544332211", "name": "Book Club", ...}`, Telegram's text twice (`text` and
`text_entities`), and ids, avatar addresses and reactions were indexed; a Slack message's sender was `U02TOM` and
its mentions `<@U02TOM>`. What the app shows as no one's message is left out: Telegram's service messages, Discord's
joins, pins and calls, Slack's joins, leaves and topic changes, and messages with no text (a photo alone).

Only a file of an export's exact shape is read so (`_shape`); any other JSON stays code. The text is rebuilt, not
the file's own, so a chunk has no line numbers. A Slack day file names its senders through `users.json`, read when
the day file is: a name changed there shows in a day file at its next reading (`ingest --force`).
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localrag.ingest.structure import HeadingPath, TextBuilder, squash
from localrag.types import LoadedText

# Discord's message types that someone wrote; the others (joins, pins, calls, boosts) are the app's own notices.
_DISCORD_SPOKEN = frozenset({"Default", "Reply", "ThreadStarterMessage"})
# Slack's subtypes of a message someone wrote; the others (channel_join, channel_leave, channel_topic, ...) are the
# app's notices.
_SLACK_SPOKEN = frozenset({"", "thread_broadcast", "bot_message", "me_message", "file_share"})
# Slack's markup in a message's text: a mention `<@U02TOM>`, a channel `<#C01|general>`, a link `<https://x|label>`,
# a special mention `<!here>`.
_SLACK_MARKUP = re.compile(r"<([@#!]?)([^<>|]+)(?:\|([^<>]*))?>")
_DISCORD_MENTION = re.compile(r"<@!?(\d+)>")
# A JSON file carries one of these keys where it is one of the exports (a cheap look before parsing it).
_MARKS = ('"messages"', '"ts"')
_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}")


def chat_export(path: Path, text: str) -> LoadedText | None:
    """The conversation in `text` (the `.json` file at `path`), or None when it is no chat export."""
    if not any(mark in text for mark in _MARKS) or not text.lstrip().startswith(("{", "[")):
        return None
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    shape = _shape(data)
    if shape == "telegram":
        title = squash(str(data.get("name") or "")) or path.stem
        lines = [_telegram(message) for message in data["messages"]]
    elif shape == "discord":
        guild, channel = squash(str(data["guild"].get("name") or "")), squash(str(data["channel"].get("name") or ""))
        title = " #".join(part for part in (guild, channel) if part) or path.stem
        lines = [_discord(message) for message in data["messages"]]
    elif shape == "slack":
        users = _slack_users(path)
        title = f"#{path.parent.name} {path.stem}" if _DAY_FILE.fullmatch(path.stem) else path.stem
        lines = [_slack(message, users) for message in data]
    else:
        return None
    out = TextBuilder()
    headings = HeadingPath().enter(0, title)
    out.add(title, "heading", headings)
    for line in lines:
        out.add(line, "paragraph", headings)
    return out.build(title)


def _shape(data: object) -> str:
    """Which export `data` is ("telegram", "discord", "slack"), or "" for any other JSON."""
    if isinstance(data, list):
        return "slack" if data and all(
            isinstance(m, dict) and m.get("type") == "message" and isinstance(m.get("ts"), str) for m in data) else ""
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        return ""
    messages = [m for m in data["messages"] if isinstance(m, dict)]
    if len(messages) != len(data["messages"]):
        return ""
    if isinstance(data.get("guild"), dict) and isinstance(data.get("channel"), dict) and all(
            isinstance(m.get("author"), dict) and isinstance(m.get("timestamp"), str) for m in messages):
        return "discord"
    if all(m.get("type") in ("message", "service") and isinstance(m.get("date"), str) for m in messages):
        return "telegram"
    return ""


def _line(when: str, sender: str, said: str) -> str:
    """A message as one line; "" for one with no text."""
    said = squash(said)
    if not said:
        return ""
    sender = squash(sender)
    return f"[{when}] {sender}: {said}" if sender else f"[{when}] {said}"


def _minute(stamp: str) -> str:
    """An ISO 8601 time as the export wrote it, to the minute ("2024-03-14T09:01:10.123+00:00": "2024-03-14 09:01")."""
    return stamp[:16].replace("T", " ")


def _telegram(message: dict[str, Any]) -> str:
    if message.get("type") != "message":
        return ""
    text = message.get("text", "")
    # A text with links, bold or mentions is a list of strings and entities ({"type": "link", "text": ...}).
    if isinstance(text, list):
        text = "".join(part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict)
                       else "" for part in text)
    return _line(_minute(str(message["date"])), str(message.get("from") or ""), str(text))


def _discord(message: dict[str, Any]) -> str:
    if message.get("type", "Default") not in _DISCORD_SPOKEN:
        return ""
    author = message["author"]
    names = {str(m.get("id")): str(m.get("nickname") or m.get("name") or "")
             for m in message.get("mentions") or [] if isinstance(m, dict)}
    content = _DISCORD_MENTION.sub(lambda m: f"@{names[m[1]]}" if names.get(m[1]) else m[0],
                                   str(message.get("content") or ""))
    return _line(_minute(message["timestamp"]), str(author.get("nickname") or author.get("name") or ""), content)


def _slack_users(path: Path) -> dict[str, str]:
    """Slack's user ids to the names its app shows, from the `users.json` of the export `path` is a day file of (at
    its root, a folder or two above the day file)."""
    for folder in (path.parent.parent, path.parent.parent.parent):
        users = folder / "users.json"
        try:
            data = json.loads(users.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, list):
            return {str(user["id"]): _slack_name(user) for user in data if isinstance(user, dict) and "id" in user}
    return {}


def _slack_name(user: dict[str, Any]) -> str:
    profile = user["profile"] if isinstance(user.get("profile"), dict) else {}
    return squash(str(user.get("real_name") or profile.get("real_name") or profile.get("display_name")
                      or user.get("name") or ""))


def _slack(message: dict[str, Any], users: dict[str, str]) -> str:
    if message.get("subtype", "") not in _SLACK_SPOKEN:
        return ""
    try:
        when = datetime.fromtimestamp(float(message["ts"]), UTC).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return ""
    user = str(message.get("user") or "")
    profile = message["user_profile"] if isinstance(message.get("user_profile"), dict) else {}
    sender = users.get(user) or _slack_name(profile) or str(message.get("username") or "") or user

    def plain(markup: re.Match[str]) -> str:
        kind, target, label = markup[1], markup[2], markup[3]
        if kind == "@":
            return f"@{users.get(target) or label or target}"
        if kind == "#":
            return f"#{label or target}"
        if kind == "!":
            return f"@{label or target}"
        return label or target

    # Slack escapes only &, < and > in a message's text.
    return _line(when, sender, html.unescape(_SLACK_MARKUP.sub(plain, str(message.get("text") or ""))))
