"""An uncited answer's added citation: the source holding most of its words, never the model asked again."""

from __future__ import annotations

from collections.abc import Iterator

from localrag.answer.attribution import source_holding, sources_holding
from localrag.answer.pipeline import answer_events
from localrag.config import Settings
from localrag.conversations import Conversation, export_markdown, turn_from_answer
from localrag.embed import HashEmbedder
from localrag.types import Answer, Chunk, DoneEvent, Hit, TokenEvent

COFFEE = "Die Kaffeemaschine im zweiten Stock wird jeden Freitag von Anna gereinigt."
HANDBOOK = "Vacation. Employees get 25 days of paid vacation per year, booked through the portal."
PARKING = "Parking. Staff park in the north garage; visitors use the south lot."


def hit(text: str, name: str, vector_score: float = 0.9) -> Hit:
    chunk = Chunk(name, name, f"/home/me/docs/{name}.md", 0, text, 0, len(text))
    return Hit(chunk=chunk, score=1.0, vector_score=vector_score)


class Replier:
    """Streams a fixed reply; `complete` fails the test, since adding a citation must not ask the model."""

    name = "replier"
    n_ctx = 2048

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def stream_chat(self, messages: list[dict[str, str]], **_: object) -> Iterator[str]:
        yield self.reply

    def complete(self, messages: list[dict[str, str]], **_: object) -> str:
        raise AssertionError("the model was asked again")


def answered(reply: str, sources: list[Hit], settings: Settings | None = None) -> tuple[Answer, str]:
    question = "How many vacation days do employees get?"
    events = list(answer_events(question, question, sources,
                                generator=Replier(reply), embedder=HashEmbedder(), settings=settings or Settings()))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return done.answer, "".join(e.text for e in events if isinstance(e, TokenEvent))


def test_the_source_holding_the_answers_words_not_the_first_or_a_foreign_one() -> None:
    sources = [hit(COFFEE, "de"), hit(PARKING, "parking"), hit(HANDBOOK, "handbook")]
    assert source_holding("25 days of paid vacation per year", sources) == 3


def test_rare_words_count_for_more_and_the_earlier_source_wins_a_tie() -> None:
    sources = [hit("Employees park here.", "a"), hit("Employees get 25 days.", "b")]
    # "employees" is in both, so "days" decides.
    assert source_holding("Employees get 25 days", sources) == 2
    assert source_holding("Employees", sources) == 1


def test_no_citation_when_no_source_holds_any_of_the_answers_words() -> None:
    assert source_holding("I am not sure.", [hit(COFFEE, "de"), hit(PARKING, "parking")]) is None
    assert source_holding("anything", []) is None


def test_a_chinese_answer_sharing_only_a_particle_with_a_source_is_not_cited_to_it() -> None:
    # 的 ("of") is in every Chinese text: read as a content word, it got the cat's answer cited to a sentence about
    # the headmaster's wife.
    sources = [hit("校长是王明，他的妻子是李华。", "school")]
    assert source_holding("我不知道公司的猫叫什么。", sources) is None
    assert source_holding("校长的妻子是李华。", sources) == 1


def test_an_uncited_answer_gets_the_right_source_streamed_and_marked_as_added() -> None:
    sources = [hit(COFFEE, "de"), hit(HANDBOOK, "handbook")]
    answer, streamed = answered("Employees get 25 days of paid vacation per year.", sources)
    assert answer.attributed and answer.cited == [2]
    assert streamed.endswith(" [2]") and answer.text.endswith("[2]")
    turn = turn_from_answer(answer)
    assert turn.attributed
    saved = Conversation.from_json(Conversation("c", turns=[turn]).to_json())
    assert saved.turns[0].attributed
    assert "localrag cited, for each sentence, the source holding most of its words" in export_markdown(saved)
    from localrag.tui.widgets.chat import _meta_line

    assert "cites [2] (added by localrag" in _meta_line(saved.turns[0]).plain


def test_a_self_cited_answer_an_unsupported_one_and_the_setting_off_get_nothing_added() -> None:
    sources = [hit(COFFEE, "de"), hit(HANDBOOK, "handbook")]
    cited, _ = answered('"25 days of paid vacation" [1]', sources)
    assert cited.cited == [1] and not cited.attributed
    unsupported, streamed = answered("I am not sure.", sources)
    assert unsupported.cited == [] and not unsupported.attributed and streamed == "I am not sure."
    off, _ = answered("Employees get 25 days.", sources, Settings(attribution_turn=False))
    assert off.cited == [] and not off.attributed


def test_words_are_read_as_the_citation_check_reads_them() -> None:
    sources = [hit("Core hours are 10:00 to 15:00.", "hours"),
               hit("Staff may work from home up to three days.", "home")]
    # "3" is the source's "three"; "answer" is the reply's talk about itself, held by neither.
    assert source_holding("The answer is: 3", sources) == 2
    assert source_holding("The answer is:", sources) is None


POLICY = "Boiler maintenance policy. The service costs 240 euros [3] and is confirmed by the landlord [7]."
NOTE = "Note 53. The widget number 53 uses a gasket of size 159 mm; the gasket is replaced every year."


def test_each_sentence_is_attributed_to_the_source_holding_its_words() -> None:
    """Before 2026-12-08 one source was picked for the whole answer: the note, holding the rarer words of its second
    sentence, was cited alone, and the policy, whose sentence the answer's first one restates and the evidence
    showed, was "not cited"."""
    reply = ("The boiler service cost 240 euros and was confirmed by the landlord. The widget number 53 uses a gasket "
             "of size 159 mm, which is replaced every year.")
    sources = [hit(POLICY, "policy"), hit(NOTE, "note53")]
    assert sources_holding(reply, sources) == [1, 2]
    answer, streamed = answered(reply, sources, Settings(min_evidence=0))
    assert answer.attributed and answer.cited == [1, 2] and streamed.endswith(" [1, 2]")
    assert answer.unsupported_citations == []
    # One sentence, or sentences too short to tell sources apart, are read whole as before.
    assert sources_holding("Employees get 25 days of paid vacation per year.", [hit(COFFEE, "de"),
                                                                                hit(HANDBOOK, "h")]) == [2]
    assert sources_holding("Yes. 25 days.", [hit(COFFEE, "de"), hit(HANDBOOK, "h")]) == [2]
    assert sources_holding("I am not sure.", [hit(COFFEE, "de")]) == []


MARGINS_2026 = "Margins 2026\n\nProduct | Margin\nAlpha | 18%"
MARGINS_2025 = "Margins 2025\n\nProduct | Margin\nAlpha | 12%"


def test_a_tie_goes_to_the_source_holding_what_the_sentence_adds_to_the_question() -> None:
    """Found as a user on a workbook: "The margin of Alpha in 2026 was 12%." holds as many words of 2026's sheet
    (margin, Alpha, 2026) as of 2025's (margin, Alpha, 12), and the earlier source won the tie, so localrag cited
    2026's sheet and its own check flagged it, "holds none of the words the answer cites it for". The words the
    sentence adds to the question (12) break the tie, as the check reads them (`claims.unsupported_citations`)."""
    question = "What was the margin of Alpha in 2026?"
    reply = "The margin of Alpha in 2026 was 12%."
    sources = [hit(MARGINS_2026, "2026"), hit(MARGINS_2025, "2025")]
    assert sources_holding(reply, sources) == [1]  # without the question, the earlier source on a tie, as before
    assert sources_holding(reply, sources, question) == [2]
    events = list(answer_events(question, question, sources, generator=Replier(reply), embedder=HashEmbedder(),
                                settings=Settings(min_evidence=0, min_similarity=0)))
    answer = events[-1].answer  # type: ignore[attr-defined]
    assert answer.attributed and answer.cited == [2] and answer.unsupported_citations == []
    # A sentence adding nothing to the question keeps the earlier source on a tie; more of its words still win.
    assert sources_holding("The margin of Alpha in 2026.", sources, question) == [1]
    assert sources_holding("Alpha's margin in 2026 was 18%.", sources, question) == [1]


def test_the_raw_text_is_the_models_without_the_added_citation() -> None:
    """Before 2026-12-08 `raw_text`, "the model's raw text", ended with the mark localrag added ("... [1]")."""
    reply = "Employees get 25 days of paid vacation per year."
    answer, streamed = answered(reply, [hit(COFFEE, "de"), hit(HANDBOOK, "handbook")], Settings(min_evidence=0))
    assert answer.attributed and answer.cited == [2] and answer.unsupported_citations == []
    assert answer.raw_text == reply and answer.text == streamed == f"{reply} [2]"
    unmarked, _ = answered(reply, [hit(HANDBOOK, "handbook")], Settings(min_evidence=0, attribution_turn=False))
    assert not unmarked.attributed and unmarked.text == unmarked.raw_text == reply
