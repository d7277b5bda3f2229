"""User settings of a live session as plain data: source, rig, outputs, filter, takes, tracking.

The desktop app persists them between runs (as JSON in QSettings) and the headless CLI builds them
from its arguments; neither Qt nor argparse appears here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from streaming.one_euro import OneEuroConfig, PoseFilterConfig
from streaming.tracking import ProcessingModes

__all__ = ["OutputSettings", "FilterSettings", "SessionSettings", "parse_host_port", "OUTPUT_KINDS"]

OUTPUT_KINDS = ("off", "vmc", "vmc-generic", "osc")
DEFAULT_VMC_PORT = 39539  # VMC.md: the Marionette (receiver) listens here


def parse_host_port(text: str, default_port: int = DEFAULT_VMC_PORT) -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"HOST"``) -> ``(host, port)``; ``ValueError`` names the bad part."""
    host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    host = host.strip() or "127.0.0.1"
    if not port_text:
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"port {port_text!r} in {text!r} is not a number") from None
    if not 0 < port < 65536:
        raise ValueError(f"port {port} in {text!r} is outside 1..65535")
    return host, port


@dataclass
class OutputSettings:
    """Where poses are sent. ``kind``: off | vmc (humanoid, Unity bone names) | vmc-generic | osc."""

    kind: str = "off"
    host: str = "127.0.0.1"
    port: int = DEFAULT_VMC_PORT
    bundle: bool = True  # VMC.md: bundles recommended; some receivers cannot parse them
    osc_prefix: str = "/anyrig"
    vmc_raw: bool = False  # humanoid VMC: the rig's own rotations instead of normalised (T-pose relative) ones
    humanoid_map: str = ""  # a JSON file (Unity bone -> joint name) fixing or completing the rig's humanoid map


@dataclass
class FilterSettings:
    """One Euro filter parameters (Casiez et al. 2012) for joint rotations: jitter at rest vs lag in fast moves.

    The defaults are :class:`~streaming.one_euro.OneEuroConfig`'s (tuned there), so the app and the
    headless pipeline filter alike until the user changes them.
    """

    enabled: bool = True
    min_cutoff: float = OneEuroConfig.min_cutoff  # Hz; lower = smoother still poses
    beta: float = OneEuroConfig.beta  # per rad/s; higher = less lag in fast motion, more jitter
    d_cutoff: float = OneEuroConfig.d_cutoff  # Hz, cutoff of the speed estimate

    def pose_filter_config(self) -> PoseFilterConfig:
        """The pipeline's filter config: these values for rotations; translations keep their defaults.

        Raises:
            ValueError: a cutoff <= 0 or a negative beta (:class:`OneEuroConfig` refuses them).
        """
        rotation = OneEuroConfig(min_cutoff=self.min_cutoff, beta=self.beta, d_cutoff=self.d_cutoff)
        return PoseFilterConfig(rotation=rotation, enabled=self.enabled)


@dataclass
class SessionSettings:
    """Everything a user chooses for a live session."""

    source: str = "synthetic"  # webcam[:N] | video file | image folder | synthetic
    rig: str = "dragon"  # bundled rig name or a rig file path
    output: OutputSettings = field(default_factory=OutputSettings)
    filter: FilterSettings = field(default_factory=FilterSettings)
    takes_dir: str = ""  # empty: the user's default takes folder
    take_format: str = "glb"  # glb | bvh | npz
    tracking: bool = True
    mirror: bool = True  # mirror the motion and the camera view, as VTuber apps do by default
    upper_body: bool = False  # seated at a desk: legs held at rest

    def modes(self) -> ProcessingModes:
        """The processing modes these settings ask for."""
        return ProcessingModes(mirror=self.mirror, upper_body=self.upper_body)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionSettings:
        """Build settings from a (possibly old or partial) dict; unknown keys and mistyped values are ignored."""
        out = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            current = getattr(out, f.name)
            if dataclasses.is_dataclass(current):
                if isinstance(data[f.name], dict):
                    setattr(out, f.name, _merged(current, data[f.name]))
            elif _same_kind(current, data[f.name]):
                setattr(out, f.name, data[f.name])
        return out


def _same_kind(default: Any, value: Any) -> bool:
    """``value`` may replace ``default``: same type (an int is accepted for a float, not a bool)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _merged(current: Any, values: dict[str, Any]) -> Any:
    """``current`` with the known, well-typed fields of ``values`` replaced (others are ignored)."""
    known = {f.name for f in dataclasses.fields(current)}
    changes = {k: v for k, v in values.items() if k in known and _same_kind(getattr(current, k), v)}
    return dataclasses.replace(current, **changes)

