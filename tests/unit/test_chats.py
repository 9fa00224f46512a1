"""Chat exports written as JSON (Telegram Desktop, DiscordChatExporter, Slack) read as their messages, one a line
with its time and sender; other JSON stays code."""

from __future__ import annotations

import json
from pathlib import Path

from localrag.embed import HashEmbedder
from localrag.ingest.chunker import chunk_document
from localrag.ingest.loaders import load_file
from localrag.sentences import chunk_sentences

_TELEGRAM = {
    "name": "Family", "type": "private_group", "id": 4455667788,
    "messages": [
        {"id": 1, "type": "service", "date": "2024-03-14T09:00:00", "date_unixtime": "1710406800",
         "actor": "Jonas Weber", "actor_id": "user111", "action": "create_group", "title": "Family", "text": "",
         "text_entities": []},
        {"id": 2, "type": "message", "date": "2024-03-14T09:01:10", "date_unixtime": "1710406870",
         "from": "Jonas Weber", "from_id": "user111", "text": "I cancelled the gym membership",
         "text_entities": [{"type": "plain", "text": "I cancelled the gym membership"}]},
        {"id": 3, "type": "message", "date": "2024-03-14T09:02:00", "from": "Maria Lopez", "from_id": "user222",
         "text": ["The recipe is at ", {"type": "link", "text": "https://example.org/soup"}, "\nBring bread."],
         "text_entities": [{"type": "plain", "text": "The recipe is at "},
                           {"type": "link", "text": "https://example.org/soup"}],
         "reactions": [{"type": "emoji", "count": 2, "emoji": "👍"}]},
        {"id": 4, "type": "message", "date": "2024-03-14T09:03:00", "from": "Maria Lopez", "from_id": "user222",
         "photo": "photos/photo_1.jpg", "width": 800, "height": 600, "text": "", "text_entities": []},
    ],
}

_DISCORD = {
    "guild": {"id": "998877665544332211", "name": "Book Club", "iconUrl": "https://cdn.discordapp.com/icons/1.png"},
    "channel": {"id": "112233", "type": "GuildTextChat", "categoryId": "1", "category": "Text", "name": "general",
                "topic": None},
    "dateRange": {"after": None, "before": None},
    "messages": [
        {"id": "1", "type": "GuildMemberJoin", "timestamp": "2024-03-01T18:00:00.000+00:00", "content": "",
         "author": {"id": "42", "name": "tom_b", "nickname": "Tom", "avatarUrl": "https://cdn.discordapp.com/a.png"},
         "attachments": [], "reactions": [], "mentions": []},
        {"id": "2", "type": "Default", "timestamp": "2024-03-01T18:05:31.123+00:00",
         "content": "We meet at the Linden Street library, room 3, <@42> brings the tea",
         "author": {"id": "7", "name": "anna_s", "nickname": "Anna Schmidt", "avatarUrl": "https://x/b.png"},
         "attachments": [], "reactions": [{"emoji": {"name": "👍"}, "count": 3}],
         "mentions": [{"id": "42", "name": "tom_b", "nickname": "Tom"}]},
    ],
    "messageCount": 2,
}


def _load(tmp_path: Path, name: str, data: object) -> tuple[str, str]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_file(path)
    return loaded.title, loaded.text


def test_a_telegram_export_is_read_as_its_messages(tmp_path: Path) -> None:
    # Before: read as JSON, each message twice (`text` and `text_entities`), with its ids and reactions.
    assert _load(tmp_path, "result.json", _TELEGRAM) == ("Family", (
        "Family\n\n[2024-03-14 09:01] Jonas Weber: I cancelled the gym membership\n\n"
        "[2024-03-14 09:02] Maria Lopez: The recipe is at https://example.org/soup Bring bread."))


def test_a_discord_export_is_read_as_its_messages(tmp_path: Path) -> None:
    # Before: `ask "Where does the book club meet?" --extract` quoted '"guild": {"id": "998877665544332211", ...'.
    assert _load(tmp_path, "Book Club - general [112233].json", _DISCORD) == ("Book Club #general", (
        "Book Club #general\n\n[2024-03-01 18:05] Anna Schmidt: We meet at the Linden Street library, room 3, "
        "@Tom brings the tea"))


def test_a_slack_day_file_names_its_senders_from_users_json(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text(json.dumps([
        {"id": "U02TOM", "name": "tom", "real_name": "Tom Baker", "profile": {"real_name": "Tom Baker"}},
        {"id": "U01ANN", "name": "anna", "profile": {"real_name": "Anna Schmidt", "display_name": "anna"}},
    ]), encoding="utf-8")
    day = [
        {"type": "message", "subtype": "channel_join", "user": "U02TOM", "text": "<@U02TOM> has joined the channel",
         "ts": "1710406800.000100"},
        {"client_msg_id": "a1", "type": "message", "user": "U01ANN", "ts": "1710406870.000200",
         "text": "<@U02TOM> the invoice &amp; the receipt are in <#C01|finance>, see <https://example.org/i|the sheet>",
         "team": "T1", "blocks": [{"type": "rich_text"}], "reactions": [{"name": "+1", "count": 1}]},
    ]
    # Before: its sender was "U02TOM"-style ids and its mentions "<@U02TOM>".
    assert _load(tmp_path, "finance/2024-03-14.json", day) == ("#finance 2024-03-14", (
        "#finance 2024-03-14\n\n[2024-03-14 09:01] Anna Schmidt: @Tom Baker the invoice & the receipt are in "
        "#finance, see the sheet"))


def test_json_of_another_shape_stays_code(tmp_path: Path) -> None:
    for name, data in (("messages.json", {"messages": [{"id": 1, "text": "hi"}]}),
                       ("events.json", [{"type": "message", "ts": 5}]),
                       ("strings.json", {"messages": ["hi", "bye"]})):
        title, text = _load(tmp_path, name, data)
        assert (title, text) == (name, json.dumps(data)), name


def test_a_chat_exports_messages_are_its_sentences_and_units(tmp_path: Path) -> None:
    messages = [{"id": i, "type": "message", "date": f"2024-03-14T09:{i:02d}:00", "from": ("Jonas", "Maria")[i % 2],
                 "text": f"Message {i} is here. It has two sentences about topic {i}."} for i in range(40)]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "Family", "type": "personal_chat", "messages": messages}), encoding="utf-8")
    chunks = chunk_document(load_file(path), doc_id="d", path=str(path), file_type="code:json",
                            token_counts=HashEmbedder().token_counts, max_tokens=64, overlap=16)
    assert len(chunks) > 5
    for chunk in chunks:
        for start, end in chunk_sentences(chunk):
            # Each message whole, with its time and sender: never "It has two sentences ..." alone.
            assert chunk.text[start:end].startswith(("[2024-03-14 09:", "Family")), chunk.text[start:end]
