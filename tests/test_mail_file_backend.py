"""The .eml file backend (no SMTP_HOST): every message a whole file of its own, never half-written."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import mail
from app.core.config import reset_settings


@pytest.fixture
def outbox(tmp_path, monkeypatch) -> Iterator[Path]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_HOST", raising=False)
    # Each test starts from a system where unnamed files were never refused.
    monkeypatch.setattr(mail, "_unnamed_refused_on", set())
    reset_settings()
    yield tmp_path / mail.MAIL_SUBDIR
    monkeypatch.undo()
    reset_settings()


def _messages(n: int) -> list[mail.RawMessage]:
    return [mail.build_fast_message(to=f"u{i}@example.test", subject=f"Message {i}", text=f"body {i}\n" * 500)
            for i in range(n)]


def _written(outbox: Path) -> dict[bytes, Path]:
    return {path.read_bytes(): path for path in outbox.iterdir()}


def test_each_message_becomes_one_whole_eml_file_and_nothing_else(outbox):
    messages = _messages(3)
    assert mail.send_messages(messages) == [None, None, None]
    written = _written(outbox)
    assert set(written) == {m.data for m in messages}  # no temporary file left beside them
    assert all(path.suffix == ".eml" for path in written.values())


def test_eml_files_get_the_mode_a_plain_open_gives(outbox):
    umask = os.umask(0o022)
    try:
        mail.send_messages(_messages(1))
    finally:
        os.umask(umask)
    [path] = outbox.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def _refuse_unnamed_open(monkeypatch) -> list[int]:
    """The kernel or file system of a system without O_TMPFILE: such an open is refused."""
    attempts: list[int] = []
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if mail._UNNAMED is not None and flags & mail._UNNAMED == mail._UNNAMED:
            attempts.append(flags)
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(mail.os, "open", open_)
    return attempts


def test_where_unnamed_files_are_refused_files_are_written_under_a_temporary_name(outbox, monkeypatch):
    attempts = _refuse_unnamed_open(monkeypatch)
    messages = _messages(4)
    assert mail.send_messages(messages[:2]) == [None, None]
    assert mail.send_messages(messages[2:]) == [None, None]
    assert set(_written(outbox)) == {m.data for m in messages}
    if mail._UNNAMED is not None:
        # Asked once: the file system is then known to refuse them.
        assert len(attempts) == 1 and mail._unnamed_refused_on == {outbox.stat().st_dev}


def test_without_proc_to_link_through_files_are_written_under_a_temporary_name(outbox, monkeypatch):
    real_link = os.link

    def link(src, dst, **kwargs):
        if str(src).startswith("/proc/self/fd/"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", src)
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(mail.os, "link", link)
    messages = _messages(2)
    assert mail.send_messages(messages) == [None, None]
    assert set(_written(outbox)) == {m.data for m in messages}  # the unlinked attempt left nothing


@pytest.mark.parametrize("unnamed", [True, False], ids=["unnamed", "named"])
def test_a_full_disk_is_recorded_per_message_and_leaves_no_file(outbox, monkeypatch, unnamed):
    if not unnamed:
        _refuse_unnamed_open(monkeypatch)
    real_write = os.write

    def write(fd, data):
        if os.fstat(fd).st_size + len(data) > 1000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(mail.os, "write", write)
    small = mail.build_fast_message(to="a@example.test", subject="Small", text="short")
    results = mail.send_messages([*_messages(1), small])
    assert results[0].startswith("file backend:") and "No space left" in results[0]
    assert results[1] is None
    assert list(_written(outbox)) == [small.data]
