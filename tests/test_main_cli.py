"""The entry point's argument handling (no sub-command means the GUI, with its options)."""

from __future__ import annotations

import pytest

import main


def _parse(argv: list[str]):
    parser = main.build_parser(argv)
    args, _ = parser.parse_known_args(argv)
    return parser, args


def test_gui_is_the_default_and_takes_app_options(monkeypatch) -> None:
    seen = {}

    def fake_import(name):
        class Module:
            @staticmethod
            def cmd_gui(args):
                seen.update(vars(args))
                return 0

        assert name == "app.launch"
        return Module

    monkeypatch.setattr(main.importlib, "import_module", fake_import)
    assert main.main(["-v", "--seconds", "2", "--rig", "snake"]) == 0
    assert seen["command"] == "gui" and seen["seconds"] == 2.0 and seen["rig"] == "snake" and seen["verbose"]


def test_every_sub_command_has_a_handler_and_help(capsys) -> None:
    for argv in (["run"], ["info", "x"], ["convert", "a", "b"], ["eval", "--data", "d"], ["train", "p2r", "--out", "o"], ["capture", "v.mp4", "--rig", "dragon", "--out", "o"],
                 ["bench", "model"], ["bench", "live"], ["bench", "soak"], ["gui"]):
        args = main.build_parser(argv).parse_args(argv)
        assert main._handler_key(args) in main.HANDLERS
    with pytest.raises(SystemExit) as exc:
        main.main(["--help"])
    assert exc.value.code == 0
    assert "eval-live" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main.main(["info", "x", "--bogus"])
    assert exc.value.code == 2
