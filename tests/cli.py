"""Running a command line tool with bad arguments, as a user would type them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest


def usage_error(
    main: Callable[[Sequence[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> str:
    """The tool's complaint: exit code 2 and exactly one line on stderr (no traceback)."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    return error
