"""A refusal's pointer to another collection as a server's client reads it."""

from __future__ import annotations

from localrag.serve.wording import for_client


def test_a_collection_that_answers_is_named_without_a_command_the_client_cannot_run() -> None:
    one = ("no passage is close enough: the closest scored 0.01, under min_similarity 0.25; collection 'os101' holds "
           "a passage that answers it: `localrag ask 'What is `top`?' --collection os101`")
    assert for_client(one, "mcp") == (
        "no passage is close enough: the closest scored 0.01, under min_similarity 0.25; collection 'os101' holds a "
        "passage that answers it (a server serves one collection: start one with --collection os101)")
    two = "nothing; collections 'default', 'os' hold passages that answer it: `localrag ask 'Why?'`"
    assert for_client(two, "http") == ("nothing; collections 'default', 'os' hold passages that answer it (a server "
                                       "serves one collection: start one with --collection default)")
