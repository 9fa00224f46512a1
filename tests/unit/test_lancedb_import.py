"""`import lancedb` after localrag: the REST namespace client's API modules stay unloaded until used."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    # A fresh interpreter: this one has imported lancedb long ago.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_lancedb_imports_and_works_without_the_rest_client_modules(tmp_path: object) -> None:
    out = _run(
        "import sys, localrag, lancedb, pyarrow as pa\n"
        f"db = lancedb.connect({str(tmp_path)!r})\n"
        "table = db.create_table('t', pa.table({'id': ['a', 'b'], 'text': ['puffins nest', 'gannets dive']}))\n"
        "table.create_fts_index('text')\n"
        "print(table.search('gannets', query_type='fts').limit(1).to_list()[0]['id'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('lance_namespace_urllib3_client.api')))\n"
    )
    assert out.splitlines() == ["b", "[]"]


def test_the_client_package_is_whole_on_first_use() -> None:
    out = _run(
        "import localrag, lancedb, lance_namespace_urllib3_client as client\n"
        "from lance_namespace_urllib3_client.api.table_api import TableApi\n"
        "print(client.ApiClient.__name__, client.TableApi is TableApi, client.models.ListTablesRequest.__name__)\n"
    )
    assert out.split() == ["ApiClient", "True", "ListTablesRequest"]
