from pytest_wave.errors import WaveError


def test_one_line_names_file_line_and_fix() -> None:
    err = WaveError("bad\nthing", path="waves/wave-1.md", line=7, fix="do this")
    assert err.one_line() == "waves/wave-1.md:7: error: bad thing (fix: do this)"


def test_one_line_without_location() -> None:
    assert WaveError("oops").one_line() == "error: oops"
