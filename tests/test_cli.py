import subprocess
import sys

from bot.cli import main


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


def test_python_dash_m_bot_runs():
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("flagbot ")
