"""A command's progress bar: on the stream it was given, silent at verbosity 0."""

from __future__ import annotations

from io import StringIO

from kalshiweb.progress import SILENT, command_bar


def test_a_command_draws_its_bar_on_the_error_stream_it_was_given():
    stream = StringIO()
    with command_bar({"stderr": stream, "verbosity": 1}) as progress:
        progress.stage("reading", total=3)
        progress.advance(3)
    assert "reading" in stream.getvalue() and "3/3" in stream.getvalue()


def test_at_verbosity_zero_a_command_has_no_bar():
    stream = StringIO()
    with command_bar({"stderr": stream, "verbosity": 0}) as progress:
        progress.stage("reading", total=3)
    assert progress is SILENT and stream.getvalue() == ""


def test_each_finished_stage_is_one_line_and_only_the_current_one_stays_live():
    stream = StringIO()
    with command_bar({"stderr": stream, "verbosity": 1}) as progress:
        for name in ("first", "second", "third"):
            progress.stage(name, total=2)
            progress.advance(2)
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    assert [line.split()[0] for line in lines] == ["first", "second", "third"]
    assert all("2/2" in line for line in lines)


def test_a_stage_that_fails_is_left_where_it_stopped():
    stream = StringIO()
    try:
        with command_bar({"stderr": stream, "verbosity": 1}) as progress:
            progress.stage("reading", total=10)
            progress.advance(4)
            raise RuntimeError("bad line")
    except RuntimeError:
        pass
    assert "4/10" in stream.getvalue() and "10/10" not in stream.getvalue()
