"""The single output writer: nothing a user gives is harmed by an output."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cape import _output
from cape._output import check_suffix, note_input, write_output
from cape.errors import CapeError, DataError

DATA = Path(__file__).parent / "data" / "ingest"


@pytest.fixture(autouse=True)
def _fresh_inputs():
    _output.clear_inputs()
    yield
    _output.clear_inputs()


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_writes_and_replaces_atomically(tmp_path):
    out = tmp_path / "t.csv"
    write_output(out, "a\n1\n")
    write_output(out, b"a\n2\n")
    assert out.read_text() == "a\n2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left


def test_refuses_a_recorded_input_by_any_name(tmp_path):
    src = tmp_path / "scores.csv"
    src.write_text("x\n")
    note_input(src)
    link = tmp_path / "hard.csv"
    os.link(src, link)
    for target in (src, link, tmp_path / "." / "scores.csv"):
        with pytest.raises(DataError, match="input"):
            write_output(target, "y\n")
    assert src.read_text() == "x\n"


def test_refuses_inputs_passed_explicitly(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("x\n")
    with pytest.raises(DataError, match="is one of this run's input files"):
        write_output(src, "y\n", inputs=[src])
    assert src.read_text() == "x\n"


def test_refuses_a_folder(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        write_output(tmp_path, "y")


def test_refuses_a_character_device():
    before = os.stat("/dev/null")
    with pytest.raises(DataError, match="special file"):
        write_output("/dev/null", "y")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="special file"):
        write_output(fifo, "y")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_refuses_a_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        write_output(tmp_path / "nope" / "t.csv", "y")
    assert not (tmp_path / "nope").exists()


def test_writes_through_a_symlink_and_keeps_it(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_output(link, "new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"


def test_symlink_to_an_input_is_refused(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    note_input(target)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with pytest.raises(DataError, match="input"):
        write_output(link, "new\n")
    assert target.read_text() == "old\n"


def test_keeps_the_mode_of_an_existing_file(tmp_path):
    out = tmp_path / "t.csv"
    out.write_text("x")
    os.chmod(out, 0o644)
    write_output(out, "y")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    os.chmod(out, 0o600)
    write_output(out, "z")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "n.csv", "y")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "n.csv").st_mode) == 0o644


def test_interrupt_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "t.csv"
    out.write_text("old\n")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(_output.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_output(out, "new\n")
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_sigterm_while_writing_removes_the_temp_file(tmp_path):
    """A SIGTERM that arrives during the write is turned into an interrupt and the temporary file removed."""
    code = (
        "import os, signal, sys\n"
        "from cape import _output\n"
        "real = _output.os.replace\n"
        "def slow(a, b):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real(a, b)\n"
        "_output.os.replace = slow\n"
        "try:\n"
        f"    _output.write_output({str(tmp_path / 'o.csv')!r}, 'x' * 100000)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 130, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_os_errors_become_one_sentence(tmp_path, monkeypatch):
    def nospace(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_output.tempfile, "mkstemp", nospace)
    with pytest.raises(DataError, match=r"t\.csv: cannot be written \(No space left on device\)"):
        write_output(tmp_path / "t.csv", "y")


def test_suffix_decides_the_format():
    assert check_suffix("x.Parquet", [".csv", ".parquet"]) == ".parquet"
    with pytest.raises(DataError, match=r"-o must end in \.csv or \.json"):
        check_suffix("x.parquet", [".csv", ".json"])


# ---------------------------------------------------------------------------------- through the commands

def _cape(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    return subprocess.run([sys.executable, "-m", "cape.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_ingest_refuses_an_output_found_by_scanning(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(DATA / "wide_basic.csv", d / "a.csv")
    shutil.copy(DATA / "wide_basic.csv", d / "b.csv")
    before = {p.name: _digest(p) for p in d.iterdir()}
    r = _cape("ingest", "d", "-o", "d/b.csv", cwd=tmp_path)
    assert r.returncode != 0
    assert "d/b.csv" in r.stderr and "input" in r.stderr
    assert "Traceback" not in r.stderr
    assert {p.name: _digest(p) for p in d.iterdir()} == before


def test_report_refuses_to_overwrite_its_scores(tmp_path):
    shutil.copy(DATA / "wide_basic.csv", tmp_path / "a.csv")
    before = _digest(tmp_path / "a.csv")
    r = _cape("report", "--scores", "a.csv", "-o", "a.csv", cwd=tmp_path)
    assert r.returncode != 0, r.stdout
    assert "a.csv" in r.stderr and "Traceback" not in r.stderr
    assert _digest(tmp_path / "a.csv") == before


def test_api_error_is_a_cape_error(tmp_path):
    with pytest.raises(CapeError):
        write_output(tmp_path / "missing" / "x.csv", "y")


# ---------------------------------------------------------------------------------- what readers refuse

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_readers_never_hang_on_a_fifo_or_read_a_device(tmp_path):
    from cape.ingest import read_any

    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(DATA / "wide_basic.csv", d / "a.csv")
    os.mkfifo(d / "f.csv")
    table, report = read_any([d])  # the FIFO found by scanning is skipped, with a note
    assert table.n_models > 0
    assert any("not a regular file" in n.message for n in report.notes)
    with pytest.raises(DataError, match=r"f\.csv: is not a regular file"):
        read_any([d / "f.csv"])
    with pytest.raises(DataError, match="not a regular file"):
        read_any(["/dev/zero"])


def test_readers_refuse_files_over_the_size_limit(tmp_path, monkeypatch):
    from cape.ingest import read_any

    f = tmp_path / "big.csv"
    shutil.copy(DATA / "wide_basic.csv", f)
    monkeypatch.setenv("CAPE_MAX_INPUT_BYTES", "100")
    with pytest.raises(DataError, match=r"big\.csv: is .* over the .* limit.*CAPE_MAX_INPUT_BYTES"):
        read_any([f])
    monkeypatch.setenv("CAPE_MAX_INPUT_BYTES", "lots")
    with pytest.raises(DataError, match="CAPE_MAX_INPUT_BYTES"):
        read_any([f])
