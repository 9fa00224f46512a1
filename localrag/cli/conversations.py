"""`localrag conversations`: the chat app's saved conversations from the command line.

`conversations` lists them (id, last update, questions, title); `search WORDS` lists those holding every
word, each with the line that holds them (`localrag/conversation_search.py`; exit 1 when none does); `show
ID` prints one as the chat app's Markdown export, rendered on a terminal and its source in a pipe (`--json`: the
saved file's fields); `rename ID TITLE`; `delete ID`. Everywhere an id is taken, `last` names the conversation
updated most recently. `ask --conversation ID|last|new` adds a question and its answer to one, with the turns
before it as history, as the chat app does.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Column
from rich.text import Text

from localrag.cli.common import print_json
from localrag.cli.tables import Rows
from localrag.safe_text import line_text

if TYPE_CHECKING:
    from localrag.conversations import Conversation, ConversationStore, ConversationSummary


def add_commands(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("conversations",
                            help="list the chat app's saved conversations (also: search, show, rename, delete)")
    parser.add_argument("--json", action="store_true", help="list, show or search as JSON, or say what rename or "
                        "delete did so")
    parser.add_argument("--yes", action="store_true", help="delete without asking for confirmation")
    # Each action takes what it needs and argparse refuses the rest: with one optional `id` and `title` shared by
    # all, `search zone printer` searched for "zone" alone, and `list extra` passed in silence.
    actions = parser.add_subparsers(dest="conversations_command", metavar="ACTION")
    listing = actions.add_parser("list", help="list them (what `conversations` alone does)")
    search = actions.add_parser("search", help="those whose title, questions or answers hold every word")
    search.add_argument("words", nargs="+", metavar="WORD", help="the words, in any case, quoted or not")
    show = actions.add_parser("show", help="print one as the chat app's Markdown export (--json: the saved file)")
    rename = actions.add_parser("rename", help="give one a new title")
    delete = actions.add_parser("delete", help="delete one")
    for action in (show, rename, delete):
        action.add_argument("id", help="a conversation id from the list, or `last`")
    rename.add_argument("title", nargs="+", metavar="TITLE", help="the new title (its words, quoted or not)")
    # After the action too, as before it (`conversations --yes delete last` worked before the actions had parsers).
    delete.add_argument("--yes", action="store_true", default=argparse.SUPPRESS, help="do not ask for confirmation")
    # Before 2026-12-07 rename and delete took `conversations --json` and printed no JSON, stdout empty.
    for action in (listing, search, show, rename, delete):
        # After the action too; SUPPRESS keeps a `--json` given before it.
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print it as JSON")
    parser.set_defaults(handler=_conversations)


def _conversations(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import usage_error
    from localrag.conversations import ConversationError, ConversationStore, export_markdown
    from localrag.safe_text import printable

    store = ConversationStore()
    command = args.conversations_command or "list"
    if command == "list":
        return _list(store, args.json, out, err)
    if command == "search":
        query = " ".join(args.words)
        if not query.split():
            return usage_error(err, "conversations search: give the words to find (`conversations search hotel cap`)")
        return _search(store, query, args.json, out, err)
    if not args.id:
        return usage_error(err, f"conversations {command}: name a conversation (an id from the list, or last)")
    if args.id == "new":
        return usage_error(err, f"conversations {command}: `new` names no saved conversation (it starts one: "
                                "`localrag ask --conversation new QUESTION`; `last` names the latest)")
    try:
        conversation = store.find(args.id)
    except ConversationError:
        if command != "delete" or args.id == "last" or not store.is_damaged(args.id):
            raise
        # What the damage error tells the user to do: the file goes, though it does not read.
        return _delete(store, args.id, f"Delete the damaged conversation file {args.id}?", args.yes, args.json, err)
    if command == "show":
        if args.json:
            print_json(conversation.to_json())
        else:
            # The answers and sources hold document text: a control character in it must not reach the terminal.
            _show(printable(export_markdown(conversation)), out)
        return 0
    if command == "rename":
        title = " ".join(args.title)
        if not title:
            return usage_error(err, "conversations rename: give the new title after the id")
        renamed = store.rename(conversation.id, title)
        if args.json:
            print_json({"renamed": renamed.id, "title": renamed.title})
        else:
            err.print(Text(f"renamed {renamed.id}: {renamed.title}"))
        return 0
    question = f"Delete conversation {conversation.id} \"{conversation.title}\" ({conversation.questions} questions)?"
    return _delete(store, conversation.id, question, args.yes, args.json, err)


def _show(markdown: str, out: Console) -> None:
    """A conversation's Markdown export (its control characters already made `printable`): rendered on a terminal,
    where its source showed the escapes that keep a document's words from reading as Markdown (`12\\.50`,
    `\\[1\\]`) and its `**` and `>` marks, and as it is in a pipe, so `show ID > notes.md` saves the export."""
    if out.is_terminal:
        from rich.markdown import Markdown

        # No hyperlinks: a link in a model's answer shows its address, as the export writes it.
        out.print(Markdown(markdown, hyperlinks=False))
    else:
        sys.stdout.write(markdown)


def _delete(store: ConversationStore, conversation_id: str, question: str, yes: bool, as_json: bool,
            err: Console) -> int:
    from localrag.cli.common import confirmed

    if not yes and not confirmed(question, f"conversation {conversation_id}: not deleted without confirmation",
                                 "pass --yes to delete it without being asked"):
        err.print("nothing deleted")
        return 1
    store.delete(conversation_id)
    if as_json:
        print_json({"deleted": conversation_id})
    else:
        err.print(Text(f"deleted conversation {conversation_id}"))
    return 0


def _list(store: ConversationStore, as_json: bool, out: Console, err: Console) -> int:
    found = store.summaries()
    damaged = store.damaged()
    if damaged:  # on stderr: the rows a script reads stay the conversations
        err.print(Text(f"skipped {len(damaged)} damaged conversation file(s): {', '.join(damaged)} "
                       "(`localrag conversations delete ID` removes one)", style="yellow"), soft_wrap=True)
    for path in store.misnamed():  # `delete NAME` refused the name the line above gave it
        err.print(Text(line_text(f"skipped {path}: its name is no conversation id (lowercase letters, digits and "
                                 "'-'); rename the file (as ID.json) or remove it"), style="yellow"), soft_wrap=True)
    if as_json:
        print_json([{"id": c.id, "title": c.title, "created": c.created, "updated": c.updated,
                     "questions": c.questions} for c in found])
        return 0
    if not found:
        out.print(Text(f"no conversations in {store.folder}"), soft_wrap=True)
        return 0
    table = Rows("id", "updated", Column("questions", justify="right"), "title", boxed=False, whole=(0,))
    for c in found:
        table.add(c.id, _updated(c), str(c.questions), c.title)
    table.print(out)
    return 0


def _updated(conversation: Conversation | ConversationSummary) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.updated))


def _search(store: ConversationStore, query: str, as_json: bool, out: Console, err: Console) -> int:
    from localrag.conversation_search import search_conversations

    found = search_conversations(store.list(), query)
    if as_json:
        print_json([{"id": m.conversation.id, "title": m.conversation.title, "updated": m.conversation.updated,
                     "turn": m.turn, "snippet": m.snippet} for m in found])
        return 0 if found else 1
    if not found:  # on stderr: a script reading the rows gets none, and the exit status says why
        err.print(Text(f"no saved conversation holds every word of {query!r}"), soft_wrap=True)
        return 1
    table = Rows("id", "updated", "title", "where", boxed=False)
    for m in found:
        c = m.conversation
        table.add(c.id, _updated(c), c.title, m.snippet)
    table.print(out)
    return 0
