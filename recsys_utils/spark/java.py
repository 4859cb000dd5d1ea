"""Is there a Java runtime (and pyspark) for Spark? One-line answers when there is not."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["JavaMissingError", "INSTALL_HINT", "java_version", "java_available", "check_java", "pyspark_available",
           "require_pyspark"]

INSTALL_HINT = (
    "install a Java 17 or 21 runtime (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless; "
    "macOS: brew install openjdk@17; conda: conda install -c conda-forge openjdk=17) "
    "and put java on PATH or set JAVA_HOME"
)


class JavaMissingError(RuntimeError):
    """No usable Java runtime for Spark. Its message is one line that says what to install."""

    def _render_traceback_(self):
        # IPython shows this instead of a stack trace
        return [f"JavaMissingError: {self}"]


def _java_executable():
    """The ``java`` Spark would start: ``$JAVA_HOME/bin/java`` if JAVA_HOME is set, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = Path(home) / "bin" / "java"
        return str(exe) if exe.is_file() and os.access(exe, os.X_OK) else None
    return shutil.which("java")


def java_version():
    """``(major, text)`` of the Java that Spark would use, or ``None`` when there is none.

    ``text`` is the first line of ``java -version`` (e.g. ``openjdk version "17.0.15" 2025-04-15``);
    ``major`` is 8 for ``1.8.0_x`` and 17 for ``17.0.x``.
    """
    exe = _java_executable()
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stderr or out.stdout).strip().splitlines()
    if out.returncode != 0 or not text:
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', text[0])
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2):  # "1.8.0_292" is Java 8
        major = int(m.group(2))
    return major, text[0]


def _required_java():
    """Minimum Java major version for the installed pyspark (17 for Spark 4, 8 for Spark 3)."""
    try:
        from importlib.metadata import version

        return 17 if int(version("pyspark").split(".")[0]) >= 4 else 8
    except Exception:  # pyspark not installed: ask for what current Spark needs
        return 17


def check_java():
    """Return the ``java -version`` line, or raise :class:`JavaMissingError` saying what to install.

    Raises
    ------
    JavaMissingError
        One line: no java (or a broken ``JAVA_HOME``), or a Java older than the
        installed Spark needs.
    """
    found = java_version()
    need = _required_java()
    if found is None:
        home = os.environ.get("JAVA_HOME")
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH and JAVA_HOME is not set"
        raise JavaMissingError(f"Spark needs Java but {where}: {INSTALL_HINT}.")
    major, text = found
    if major < need:
        raise JavaMissingError(f"Spark needs Java {need}+ but found {text!r}: {INSTALL_HINT}.")
    return text


def java_available() -> bool:
    """True when a Java recent enough for the installed Spark is there."""
    try:
        check_java()
    except JavaMissingError:
        return False
    return True


def pyspark_available() -> bool:
    """True when ``pyspark`` can be imported (the ``spark`` extra)."""
    import importlib.util

    return importlib.util.find_spec("pyspark") is not None


def require_pyspark():
    if not pyspark_available():
        raise ImportError("pyspark is not installed: pip install -e .[spark]  (or pip install pyspark)")
