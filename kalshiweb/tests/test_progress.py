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
