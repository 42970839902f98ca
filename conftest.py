"""Root conftest: loaded for notebooks (nbmake) as well as tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "tests"))
import nbclient_stall_patch  # noqa: F401  (nbmake runs nbclient in this process)
