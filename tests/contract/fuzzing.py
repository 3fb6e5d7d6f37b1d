"""What both fuzzing modules share: running one operation's examples, and the tally they print."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given


class Tally:
    """Examples run and 5xx answers seen by one module, for the record (printed at its end)."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.counts: Counter[str] = Counter()

    def fixture(self) -> Any:
        """A module-scoped autouse fixture printing the tally once the module's tests ran."""

        @pytest.fixture(scope="module", autouse=True)
        def _report() -> Iterator[None]:
            yield
            counts = self.counts
            print(f"\n{self.api} fuzzing: {counts['examples']} examples, {counts['5xx']} server errors")

        return _report

    def honour_the_contract(
        self, operation: schemathesis.APIOperation, call: Callable[[schemathesis.Case], Any]
    ) -> None:
        """Every example hypothesis draws for ``operation``, answered by ``call``, honours the contract."""

        @given(case=operation.as_strategy())
        def honours_the_contract(case: schemathesis.Case) -> None:
            self.counts["examples"] += 1
            response = call(case)
            self.counts["5xx"] += response.status_code >= 500
            case.validate_response(response)

        honours_the_contract()
