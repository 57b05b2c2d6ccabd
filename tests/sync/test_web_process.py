"""A web process that imports nothing but the app still queues pushes (the outbox hooks load with it)."""
import subprocess
import sys

from testsupport.processes import ROOT


def test_create_app_alone_installs_the_outbox_hooks():
    code = "import sys; from app import create_app; create_app(); print('app.sync.outbox' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr
