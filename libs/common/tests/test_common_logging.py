import contextvars
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from izlek_common.logging import (
    bind_correlation_id,
    configure_logging,
    correlation_scope,
    get_correlation_id,
    new_correlation_id,
    parse_correlation_id,
)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Configure logging into a buffer, then put the previous configuration back."""
    root = logging.getLogger()
    saved_level = root.level
    ours_before = [handler for handler in root.handlers if getattr(handler, "_izlek_handler", False)]
    saved_structlog = structlog.get_config()
    buffer = io.StringIO()
    configure_logging("DEBUG", json=True, stream=buffer)
    try:
        yield buffer
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_izlek_handler", False)]:
            root.removeHandler(handler)
        for handler in ours_before:
            root.addHandler(handler)
        root.setLevel(saved_level)
        structlog.reset_defaults()
        structlog.configure(**saved_structlog)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_structlog_lines_are_json_with_utc_timestamp_level_and_logger_name(log_output: io.StringIO) -> None:
    structlog.get_logger("izlek.test").info("plan_created", plan_id="p-1")

    [line] = lines(log_output)
    assert line["event"] == "plan_created"
    assert line["plan_id"] == "p-1"
    assert line["level"] == "info"
    assert line["logger"] == "izlek.test"
    assert line["timestamp"].endswith("Z")


def test_standard_library_loggers_come_out_as_json_too(log_output: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("Started server process [%d]", 42)

    [line] = lines(log_output)
    assert line["event"] == "Started server process [42]"
    assert line["level"] == "warning"
    assert line["logger"] == "uvicorn.error"
    assert "timestamp" in line


def test_turkish_text_is_logged_as_is(log_output: io.StringIO) -> None:
    structlog.get_logger("izlek.test").info("organisation_added", name="Çiğli Belediyesi")

    assert "Çiğli Belediyesi" in log_output.getvalue()


def test_exceptions_are_logged_as_structured_tracebacks(log_output: io.StringIO) -> None:
    try:
        raise ValueError("kota negatif olamaz")
    except ValueError:
        structlog.get_logger("izlek.test").exception("import_failed")

    [line] = lines(log_output)
    assert line["event"] == "import_failed"
    assert line["exception"][0]["exc_type"] == "ValueError"
    assert line["exception"][0]["exc_value"] == "kota negatif olamaz"


def test_lines_below_the_configured_level_are_dropped(log_output: io.StringIO) -> None:
    configure_logging("WARNING", json=True, stream=log_output)

    structlog.get_logger("izlek.test").info("quiet")
    logging.getLogger("nats").info("quiet too")
    structlog.get_logger("izlek.test").warning("loud")

    assert [line["event"] for line in lines(log_output)] == ["loud"]


def test_configuring_again_replaces_the_handler_instead_of_adding_one(log_output: io.StringIO) -> None:
    second = io.StringIO()
    configure_logging("INFO", json=True, stream=second)
    configure_logging("INFO", json=True, stream=second)

    structlog.get_logger("izlek.test").info("once")

    assert log_output.getvalue() == ""
    assert [line["event"] for line in lines(second)] == ["once"]


def test_console_rendering_is_available_for_local_development(log_output: io.StringIO) -> None:
    configure_logging("INFO", json=False, stream=log_output)

    structlog.get_logger("izlek.test").info("hello", who="dev")

    assert "hello" in log_output.getvalue()
    assert not log_output.getvalue().lstrip().startswith("{")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD")


def test_the_correlation_id_in_scope_appears_on_every_line(log_output: io.StringIO) -> None:
    with correlation_scope("req-123"):
        structlog.get_logger("izlek.test").info("inside")
        logging.getLogger("nats").info("library line inside")
    structlog.get_logger("izlek.test").info("outside")

    inside, library_inside, outside = lines(log_output)
    assert inside["correlation_id"] == "req-123"
    assert library_inside["correlation_id"] == "req-123"
    assert "correlation_id" not in outside


def test_correlation_scope_binds_and_restores_the_previous_id() -> None:
    with correlation_scope("outer"):
        with correlation_scope("inner") as inner:
            assert inner == "inner"
            assert get_correlation_id() == "inner"
            assert structlog.contextvars.get_contextvars()["correlation_id"] == "inner"
        assert get_correlation_id() == "outer"
        assert structlog.contextvars.get_contextvars()["correlation_id"] == "outer"
    assert get_correlation_id() is None
    assert "correlation_id" not in structlog.contextvars.get_contextvars()


def test_correlation_scope_makes_a_new_id_when_given_none() -> None:
    with correlation_scope(None) as cid:
        assert get_correlation_id() == cid
        assert len(cid) == 32


def test_bind_correlation_id_sets_both_the_contextvar_and_the_log_context() -> None:
    def bind_and_read() -> tuple[str | None, str | None]:
        bind_correlation_id("abc")
        return get_correlation_id(), structlog.contextvars.get_contextvars().get("correlation_id")

    assert contextvars.copy_context().run(bind_and_read) == ("abc", "abc")
    assert get_correlation_id() is None


def test_new_correlation_ids_are_unique_hex() -> None:
    first, second = new_correlation_id(), new_correlation_id()

    assert first != second
    int(first, 16)


def test_an_incoming_correlation_id_is_accepted_only_when_it_is_a_short_safe_token() -> None:
    assert (
        parse_correlation_id("0b6f1c1e-5d0a-4b1e-9a77-0f0d1a2b3c4d") == "0b6f1c1e-5d0a-4b1e-9a77-0f0d1a2b3c4d"
    )
    assert parse_correlation_id("  trace:42.a_b  ") == "trace:42.a_b"
    assert parse_correlation_id(None) is None
    assert parse_correlation_id("") is None
    assert parse_correlation_id("has space") is None
    assert parse_correlation_id("line\nbreak") is None
    assert parse_correlation_id("x" * 129) is None
