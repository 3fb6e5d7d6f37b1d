"""remembered_per_text: short texts are worked out once, long ones every time (memory stays bounded)."""

from __future__ import annotations

from simulator.http.request_validation import REMEMBERED_LENGTH, remembered_per_text


def test_a_short_text_is_worked_out_once_and_a_long_one_every_time() -> None:
    seen: list[str] = []

    def length(raw: str) -> int:
        seen.append(raw)
        return len(raw)

    remembered = remembered_per_text(length)
    short, long = "x" * REMEMBERED_LENGTH, "y" * (REMEMBERED_LENGTH + 1)
    assert [remembered(short) for _ in range(3)] == [REMEMBERED_LENGTH] * 3
    assert [remembered(long) for _ in range(3)] == [REMEMBERED_LENGTH + 1] * 3
    assert seen == [short, long, long, long]
