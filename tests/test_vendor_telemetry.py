"""OpenVINO's converter and NNCF report usage to Google Analytics unless the user opted out
(openvino-telemetry, opt-out) and write a client id under ~/intel on first use. LoRA Studio
declines for its process: nothing is sent and nothing is written into the user's home.

Each check runs in a fresh interpreter with its own HOME: NNCF stubs its telemetry when it
sees pytest imported, so the suite's own process would prove nothing."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(importlib.util.find_spec("openvino_telemetry") is None,
                                reason="openvino-telemetry is not installed")

PROBE = r"""
import json, sys
from openvino_telemetry import main
sent = []
import openvino_telemetry.backend.backend_ga4 as ga4
ga4.GA4Backend.send = lambda self, message: sent.append(message)  # the network call
{action}
t = main.Telemetry()
t.send_event("probe", "action", "label", force_send=True)  # skips the consent check
t.start_session("probe")
import time; time.sleep(0.3)  # the sender's threads
print(json.dumps({{"consent": t.consent, "sent": len(sent)}}))
"""

ACTIONS = {
    "nncf": "from engine.use.openvino_int8 import require_nncf\nrequire_nncf()",
    "converter": ("from engine.use.onnx_sessions import require_openvino\nrequire_openvino()\n"
                  "from openvino.tools.ovc.telemetry_utils import init_ovc_telemetry\n"
                  "init_ovc_telemetry()"),
}


def _probe(action: str, home: Path) -> dict:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "CI": "", "NNCF_CI": "", "NNCF_DEV": ""}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(action=action)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("what", sorted(ACTIONS))
def test_nothing_is_sent_and_nothing_written_in_the_home(what, tmp_path):
    if what == "nncf" and importlib.util.find_spec("nncf") is None:
        pytest.skip("nncf is not installed")
    home = tmp_path / "home"
    home.mkdir()
    found = _probe(ACTIONS[what], home)
    assert found == {"consent": False, "sent": 0}
    assert list(home.iterdir()) == []  # no ~/intel/openvino_ga_cid, no consent file


def test_the_probe_sees_what_the_libraries_do_undeclined(tmp_path):
    """The same probe without LoRA Studio's decline: NNCF consents and writes ~/intel, so the
    test above would catch a decline that stopped working."""
    if importlib.util.find_spec("nncf") is None:
        pytest.skip("nncf is not installed")
    home = tmp_path / "home"
    home.mkdir()
    found = _probe("import nncf", home)
    assert found["consent"] is True and found["sent"] > 0 and (home / "intel").is_dir()
