"""Keep OpenVINO's and NNCF's usage statistics on this machine.

OpenVINO's model converter (ov.convert_model) and NNCF (the openvino-int8 quantizer) report
usage to Google Analytics through the openvino-telemetry package unless the user has run its
`opt_in_out --opt_out`: it is opt-out, and on first use it writes a client id under ~/intel.
LoRA Studio never sends anything anywhere (README, "Privacy"), so before either library makes
its telemetry object, this process declines it, the way those libraries decline in a CI job:
nothing is sent and no file is written. Call `decline()` before importing nncf or converting
with OpenVINO; it is cheap and idempotent.
"""
from __future__ import annotations

_DONE = False


def decline() -> None:
    """Decline openvino-telemetry for this process (no-op when it is not installed)."""
    global _DONE
    if _DONE:
        return
    try:
        from openvino_telemetry import main
        from openvino_telemetry.utils.opt_in_checker import OptInChecker
    except ImportError:  # not installed: nothing could be sent
        _DONE = True
        return
    # the consent check every Telemetry object makes at creation: "declined", as in CI
    # (NNCF and the converter both pass disable_in_ci=True); no consent file is read or made
    OptInChecker._run_in_ci = staticmethod(lambda: True)
    # and whatever is created anyway (an object made before this call, or force_send
    # events, which skip the consent) sends nothing
    main.TelemetrySender.send = lambda self, *args, **kwargs: None
    made = getattr(main.Telemetry, "_SingletonMetaClass__single_instance", None)
    if made is not None:
        made.consent = False
    _DONE = True


__all__ = ["decline"]
