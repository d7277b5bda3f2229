"""Retarget map editor: which performer chain drives each rig chain, by which rule; saved beside the rig.

The tables are a view of a :class:`~engine.retarget.mapping.RetargetMap` (plain data): one row per
chain map, below it one row per orientation link (rig joint <- performer segment orientation:
mode, weight, the segment a turn is measured against, performer pose; *Remove link* drops the
selected rows), then the face and hand joints: the jaw and eye joints the face drives (automatic,
none, or a named joint) and the grips, joints that close with a hand (side, angle at a fist;
*Remove grip* drops the selected rows). Editing a cell edits the panel's working copy; *Save map* checks it, writes
``<rig file>.retarget.json`` (a bundled rig's map goes to the user's config folder, never into the
checkout) and drives the rig with it; *Suggest* refills the table with the
automatic map (the reset), *Revert* with the one in use.
"""

from __future__ import annotations

import copy

from PyQt6 import QtCore, QtWidgets

from app.live_session import LiveSession
from engine.errors import AnyRigError
from engine.performer import PERFORMER_CHAINS
from engine.performer.segments import SEGMENTS
from engine.retarget.face_hand_joints import GRIP_SIDES
from engine.retarget.mapping import RULES, SOURCE_POSES, RetargetMap
from engine.retarget.orientation import LINK_MODES

__all__ = ["RetargetPanel", "COLUMNS", "LINK_COLUMNS", "GRIP_COLUMNS", "AUTOMATIC", "NO_JOINT"]

COLUMNS = ("Rig chain", "Rule", "Performer chain", "Performer pose", "Delay (frames)", "Mirror")
LINK_COLUMNS = ("Rig joint", "Performer segment", "Mode", "Weight", "Relative to", "Performer pose")
GRIP_COLUMNS = ("Rig joint", "Hand", "Angle at a fist (°)")
NO_SOURCE = "—"
AUTOMATIC, NO_JOINT = "(automatic)", "(none)"  # a face joint left to the search / none at all


class RetargetPanel(QtWidgets.QWidget):
    """Edits the current rig's retarget map.

    Signals:
        error(str): the map could not be loaded or saved.
        message(str): the map was saved (its path).
    """

    error = QtCore.pyqtSignal(str)
    message = QtCore.pyqtSignal(str)

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.map: RetargetMap | None = None
        layout = QtWidgets.QVBoxLayout(self)
        self.path_label = QtWidgets.QLabel()
        self.path_label.setWordWrap(True)
        layout.addWidget(self.path_label)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.table.horizontalHeader()
        # Every column as wide as its widest cell (combo boxes included), the table scrolls sideways
        # when the tab is narrower: nothing is cut off until the user widens it.
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setHorizontalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table, 1)
        self.links_table, self.remove_link_button = _removable_rows(
            layout, "Orientation links (head, twists, hands, feet)", LINK_COLUMNS, "Remove link", self.remove_selected_links)
        face = QtWidgets.QFormLayout()
        self.face_combos: dict[str, QtWidgets.QComboBox] = {}
        for field, label in (("jaw", "Jaw (opens with the mouth)"), ("left_eye", "Left eye"), ("right_eye", "Right eye")):
            combo = QtWidgets.QComboBox()
            combo.currentTextChanged.connect(lambda text, field=field: self._set_face(field, text))
            self.face_combos[field] = combo
            face.addRow(label, combo)
        layout.addLayout(face)
        self.grips_table, self.remove_grip_button = _removable_rows(
            layout, "Grips (joints that close with a hand: claws, wing fingers)", GRIP_COLUMNS, "Remove grip", self.remove_selected_grips)
        row = QtWidgets.QHBoxLayout()
        self.suggest_button = QtWidgets.QPushButton("Suggest (reset)")
        self.revert_button = QtWidgets.QPushButton("Revert")
        self.save_button = QtWidgets.QPushButton("Save map")
        for b in (self.suggest_button, self.revert_button, self.save_button):
            row.addWidget(b)
        layout.addLayout(row)
        self.suggest_button.clicked.connect(self.suggest)
        self.revert_button.clicked.connect(self.revert)
        self.save_button.clicked.connect(self.save)
        session.listeners.append(self._on_session_changed)
        self.revert()

    # -- model -> view ---------------------------------------------------------------------------
    def _on_session_changed(self, field: str) -> None:
        if field in ("rig", "retarget"):
            self.revert()

    def revert(self) -> None:
        """Show the map in use (saved beside the rig, else the suggestion)."""
        if self.session.rig is None:
            return
        try:
            self.show_map(self.session.retarget_map())
        except (AnyRigError, OSError, ValueError) as exc:
            self.error.emit(f"The saved retarget map cannot be used ({exc}); showing the suggestion")
            self.show_map(self.session.suggested_map())

    def suggest(self) -> None:
        """Refill the table with the automatic suggestion (not saved until *Save*)."""
        if self.session.rig is not None:
            self.show_map(self.session.suggested_map())

    def show_map(self, retarget_map: RetargetMap) -> None:
        self.map = copy.deepcopy(retarget_map)
        path = self.session.retarget_map_path()
        saved = path is not None and path.is_file()
        if path is None:
            self.path_label.setText("This rig has no file: the map cannot be saved")
        else:
            self.path_label.setText(f"Saved map: {path}" if saved else "Automatic suggestion (not saved)")
        self.save_button.setEnabled(path is not None)
        self.table.setRowCount(len(self.map.chains))
        for r, chain in enumerate(self.map.chains):
            item = QtWidgets.QTableWidgetItem(" → ".join(chain.target))
            item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(" → ".join(chain.target))
            self.table.setItem(r, 0, item)
            self.table.setCellWidget(r, 1, self._combo(RULES, chain.rule, r, "rule"))
            self.table.setCellWidget(r, 2, self._combo((NO_SOURCE, *PERFORMER_CHAINS), chain.source or NO_SOURCE, r, "source"))
            self.table.setCellWidget(r, 3, self._combo(SOURCE_POSES, chain.source_pose, r, "source_pose"))
            spin = QtWidgets.QSpinBox()
            spin.setRange(0, 60)
            spin.setValue(int(chain.delay_frames))
            spin.valueChanged.connect(lambda v, r=r: self._set(r, "delay_frames", int(v)))
            self.table.setCellWidget(r, 4, spin)
            check = QtWidgets.QCheckBox()
            check.setChecked(bool(chain.mirror))
            check.toggled.connect(lambda v, r=r: self._set(r, "mirror", bool(v)))
            self.table.setCellWidget(r, 5, check)
        self._show_links()
        self._show_face_hands()

    def _show_face_hands(self) -> None:
        assert self.map is not None and self.session.rig is not None
        joints = self.map.face_hands
        names = list(self.session.rig.skeleton.names)
        for field, combo in self.face_combos.items():
            value = getattr(joints, field)
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([AUTOMATIC, NO_JOINT, *names])
            combo.setCurrentText(AUTOMATIC if value is None else NO_JOINT if value == "" else value)
            combo.blockSignals(False)
        self.grips_table.setRowCount(len(joints.grips))
        for r, grip in enumerate(joints.grips):
            item = QtWidgets.QTableWidgetItem(grip.joint)
            item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
            self.grips_table.setItem(r, 0, item)
            self.grips_table.setCellWidget(r, 1, self._combo(GRIP_SIDES, grip.side, r, "side", self._set_grip))
            spin = QtWidgets.QDoubleSpinBox()
            spin.setRange(-180.0, 180.0)
            spin.setDecimals(1)
            spin.setValue(float(grip.angle_deg))
            spin.valueChanged.connect(lambda v, r=r: self._set_grip(r, "angle_deg", float(v)))
            self.grips_table.setCellWidget(r, 2, spin)

    def remove_selected_grips(self) -> None:
        """Drop the selected grips from the working copy."""
        if self.map is None:
            return
        rows = {i.row() for i in self.grips_table.selectionModel().selectedRows()}
        self.map.face_hands.grips = [g for r, g in enumerate(self.map.face_hands.grips) if r not in rows]
        self._show_face_hands()

    def _show_links(self) -> None:
        assert self.map is not None
        links = self.map.orientations
        self.links_table.setRowCount(len(links))
        for r, link in enumerate(links):
            item = QtWidgets.QTableWidgetItem(link.joint)
            item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
            self.links_table.setItem(r, 0, item)
            self.links_table.setCellWidget(r, 1, self._combo(SEGMENTS, link.segment, r, "segment", self._set_link))
            self.links_table.setCellWidget(r, 2, self._combo(LINK_MODES, link.mode, r, "mode", self._set_link))
            spin = QtWidgets.QDoubleSpinBox()
            spin.setRange(0.0, 1.0)
            spin.setDecimals(3)
            spin.setSingleStep(0.05)
            spin.setValue(float(link.weight))
            spin.valueChanged.connect(lambda v, r=r: self._set_link(r, "weight", float(v)))
            self.links_table.setCellWidget(r, 3, spin)
            self.links_table.setCellWidget(r, 4, self._combo((NO_SOURCE, *SEGMENTS), link.relative_to or NO_SOURCE, r, "relative_to", self._set_link))
            self.links_table.setCellWidget(r, 5, self._combo(SOURCE_POSES, link.source_pose, r, "source_pose", self._set_link))

    def remove_selected_links(self) -> None:
        """Drop the selected orientation links from the working copy."""
        if self.map is None:
            return
        rows = {i.row() for i in self.links_table.selectionModel().selectedRows()}
        self.map.orientations = [link for r, link in enumerate(self.map.orientations) if r not in rows]
        self._show_links()

    def _combo(self, options: tuple[str, ...], value: str, row: int, field: str, setter=None) -> QtWidgets.QComboBox:
        combo = QtWidgets.QComboBox()
        combo.addItems(list(options))
        combo.setCurrentText(value)
        setter = setter or self._set
        combo.currentTextChanged.connect(lambda text: setter(row, field, None if text == NO_SOURCE else text))
        return combo

    # -- view -> working copy -> model -------------------------------------------------------------
    def _set(self, row: int, field: str, value: object) -> None:
        assert self.map is not None
        setattr(self.map.chains[row], field, value)

    def _set_link(self, row: int, field: str, value: object) -> None:
        assert self.map is not None
        setattr(self.map.orientations[row], field, value)

    def _set_grip(self, row: int, field: str, value: object) -> None:
        assert self.map is not None
        setattr(self.map.face_hands.grips[row], field, value)

    def _set_face(self, field: str, text: str) -> None:
        if self.map is not None and text:
            setattr(self.map.face_hands, field, None if text == AUTOMATIC else "" if text == NO_JOINT else text)

    def save(self) -> bool:
        """Check the edited map, save it beside the rig and use it; on failure report it."""
        if self.map is None:
            return False
        try:
            path = self.session.save_retarget_map(self.map)
        except (AnyRigError, OSError, ValueError) as exc:
            self.error.emit(f"Retarget map not saved: {exc}")
            return False
        self.message.emit(f"Retarget map saved: {path}")
        return True


def _removable_rows(layout: QtWidgets.QVBoxLayout, title: str, columns: tuple[str, ...], remove: str,
                    on_remove) -> tuple[QtWidgets.QTableWidget, QtWidgets.QPushButton]:
    """A titled table of whole-row selections with a button under it that removes the selected rows."""
    layout.addWidget(QtWidgets.QLabel(title))
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    layout.addWidget(table, 1)
    button = QtWidgets.QPushButton(remove)
    button.clicked.connect(on_remove)
    layout.addWidget(button)
    return table, button
