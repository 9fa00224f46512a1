"""A chat template is code from a model file: its rendering is bounded in time and in size."""

from __future__ import annotations

import time

import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from localrag import generate
from localrag.errors import ModelError
from localrag.generate import LlamaGenerator
from localrag.models import bundled_generator_path

LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{{ '' }}{% endfor %}{% endfor %}"
HUGE = "{% for m in messages %}{{ m['content'] * 100000 }}{% endfor %}"


def _generator(template: str, monkeypatch: pytest.MonkeyPatch) -> LlamaGenerator:
    gen = LlamaGenerator(bundled_generator_path())
    monkeypatch.setattr(gen, "_load", lambda: None)  # the header is real; llama.cpp is not needed to render
    gen._formatter = Jinja2ChatFormatter(template=template, eos_token="</s>", bos_token="<s>")
    return gen


def test_nested_loops_stop_with_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "RENDER_SECONDS", 0.5)
    gen = _generator(LOOPS, monkeypatch)
    started = time.monotonic()
    with pytest.raises(ModelError, match="did not finish rendering within 0.5s"):
        gen.render([{"role": "user", "content": "hi"}])
    assert time.monotonic() - started < 10


def test_a_template_that_balloons_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = _generator(HUGE, monkeypatch)
    with pytest.raises(ModelError, match="chat template wrote 1,000,000 characters"):
        gen.render([{"role": "user", "content": "0123456789"}])


def test_a_normal_template_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = _generator(generate.CHATML_TEMPLATE, monkeypatch)
    assert "hello" in gen.render([{"role": "user", "content": "hello"}])


def test_a_template_that_fails_with_the_system_turn_folded_in_too_keeps_its_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Folding the system prompt into the user turn is for a template that refuses the system role alone.
    gen = _generator("{{ raise_exception('broken for every chat') }}", monkeypatch)
    with pytest.raises(ModelError, match=r"failed to render \(broken for every chat\)"):
        gen.render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])


def test_mistral_v01s_template_that_refuses_the_system_role_gets_it_in_the_first_user_turn(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from llama_cpp.llama_chat_format import MISTRAL_INSTRUCT_CHAT_TEMPLATE

    gen = _generator(MISTRAL_INSTRUCT_CHAT_TEMPLATE, monkeypatch)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert gen.render(chat) == "<s>[INST] Be brief.\n\nhi [/INST]"
    assert gen.render([chat[0], {"role": "assistant", "content": "ok"}]) == "<s>[INST] Be brief. [/INST]ok</s> "
