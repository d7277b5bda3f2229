"""Plain session settings: host:port parsing and tolerant loading from old or hand-edited dicts."""

from __future__ import annotations

import pytest

from streaming.settings import FilterSettings, OutputSettings, SessionSettings, parse_host_port


@pytest.mark.parametrize(
    "text, expected",
    [("127.0.0.1:39539", ("127.0.0.1", 39539)), ("localhost", ("localhost", 39539)), (":9000", ("127.0.0.1", 9000)),
     ("::1:9000", ("::1", 9000))],
)
def test_parse_host_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize("text, fault", [("host:abc", "not a number"), ("host:0", "outside"), ("host:70000", "outside")])
def test_parse_host_port_names_the_bad_part(text: str, fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        parse_host_port(text)


def test_dict_round_trip() -> None:
    settings = SessionSettings(source="clip.mp4", output=OutputSettings(kind="vmc", port=1234), filter=FilterSettings(beta=0.1))
    assert SessionSettings.from_dict(settings.to_dict()) == settings


def test_from_dict_ignores_unknown_keys_and_mistyped_values() -> None:
    loaded = SessionSettings.from_dict({"rig": 5, "source": "synthetic", "future_field": 1, "output": {"port": "x", "host": "h", "new": 2}})
    assert loaded.rig == SessionSettings().rig
    assert loaded.output == OutputSettings(host="h")


def test_filter_settings_become_the_pipelines_one_euro_config() -> None:
    config = FilterSettings(enabled=False, min_cutoff=0.5, beta=0.2, d_cutoff=2.0).pose_filter_config()
    assert config.enabled is False
    assert (config.rotation.min_cutoff, config.rotation.beta, config.rotation.d_cutoff) == (0.5, 0.2, 2.0)
    with pytest.raises(ValueError):
        FilterSettings(min_cutoff=0.0).pose_filter_config()
