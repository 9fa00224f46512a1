"""`localrag serve` (OpenAI-compatible HTTP API) and `localrag mcp` (MCP server on stdio).

Both hand one Engine to a server in `localrag.serve`; the server libraries load inside the handlers.
`mcp` writes nothing to stdout but the protocol: its messages go to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
from types import FrameType

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import count, port, positive
from localrag.cli.collections import add_collection_flag
from localrag.running import marked_running


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.serve.limits import DEFAULT_HOST, DEFAULT_PORT, Limits

    defaults = Limits()
    serve = sub.add_parser("serve", help="serve the index over an OpenAI-compatible HTTP API (local only by default)")
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=f"address to bind (default {DEFAULT_HOST}); any other needs --token")
    serve.add_argument("--port", type=port, default=DEFAULT_PORT,
                       help=f"0 to 65535 (default {DEFAULT_PORT}); 0 picks a free one")
    serve.add_argument("--token", help="bearer token every request must send (default: the api_token setting)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="a web page's origin (e.g. https://chat.example:3000, or an extension's "
                       "chrome-extension://ID) that may call the API from a browser; repeatable; pages on this "
                       "machine's localhost always may, other pages never unless named")
    serve.add_argument("--model", help="GGUF file or model name under models/ (default: the model setting, "
                       "the bundled SmolLM2 when unset)")
    serve.add_argument("--queue", type=count, default=defaults.queue_size, metavar="N",
                       help=f"requests that may wait for the model, and as many for the embedder (searches, "
                            f"embeddings); more get 503 (default {defaults.queue_size})")
    serve.add_argument("--max-body-bytes", type=positive, default=defaults.max_body_bytes, metavar="N",
                       help=f"largest request body (default {defaults.max_body_bytes})")
    serve.add_argument("--max-question-chars", type=positive, default=defaults.max_question_chars, metavar="N",
                       help=f"longest question (default {defaults.max_question_chars})")
    add_collection_flag(serve)
    serve.set_defaults(handler=_serve)

    mcp = sub.add_parser("mcp", help="run an MCP server on stdio (for desktop assistants and editors)")
    mcp.add_argument("--model", help="GGUF file or model name under models/ (default: the model setting, "
                       "the bundled SmolLM2 when unset)")
    mcp.add_argument("--max-question-chars", type=positive, default=defaults.max_question_chars, metavar="N",
                     help=f"longest question or query, as serve's (default {defaults.max_question_chars})")
    add_collection_flag(mcp)
    mcp.set_defaults(handler=_mcp)


def _serve(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import answering_mode, engine_from_args
    from localrag.serve.http import serve
    from localrag.serve.limits import Limits

    if args.token:
        # The process list shows every account on the machine a command's arguments; the environment it does not.
        err.print(Text("localrag: note: other users of this machine can read --token in the process list; "
                       "LOCALRAG_API_TOKEN (or api_token in the settings file) keeps it to you", style="yellow"),
                  soft_wrap=True)
    engine = engine_from_args(args, answer_mode=answering_mode(args))
    limits = Limits(max_body_bytes=args.max_body_bytes, max_question_chars=args.max_question_chars,
                    queue_size=args.queue)
    # uvicorn raises a SIGTERM it stopped for again once the requests in flight are done: as Ctrl-C's, it ends
    # here, "stopped" said (it killed the process before, status -15, in silence).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with marked_running(f"serve --port {args.port}"):
            serve(engine, args.host, args.port, token=args.token or engine.settings.api_token, limits=limits,
                  origins=tuple(args.allow_origin))
    except KeyboardInterrupt:
        # uvicorn has finished the requests in flight and closed the socket, then raised Ctrl-C again so
        # that it is not lost: here it is how a server is stopped, as `watch` is, not a failure.
        pass
    err.print("stopped")
    return 0


def _mcp(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import answering_mode, engine_from_args
    from localrag.serve.limits import Limits
    from localrag.serve.mcp import run_stdio

    engine = engine_from_args(args, answer_mode=answering_mode(args))
    engine.check_collection()  # refused here, where the person who set the client up reads it
    signal.signal(signal.SIGINT, _stop_at_once)
    signal.signal(signal.SIGTERM, _stop_at_once)  # a service manager's stop, as Ctrl-C
    with marked_running("mcp"):
        run_stdio(engine, Limits(max_question_chars=args.max_question_chars))
    return 0


def _stop_at_once(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C for the stdio server: say so and exit now.

    The MCP SDK reads stdin in a worker thread that cancellation cannot interrupt, so after its own
    Ctrl-C handling the server waits for one more line or the end of input (an open SDK issue: a stdio
    server run at a terminal ignores the first Ctrl-C presses). A client ends the server by closing the
    pipe, which works; this is for a person who started it by hand. Exiting at once is what a kill does,
    which every write localrag makes survives (the store's commits, the writer lock's flock); a signal
    handler writes with os.write, not through the console's locks.
    """
    os.write(2, b"stopped\n")
    os._exit(0)
