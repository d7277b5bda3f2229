"""Face and hands: blendshapes -> expressions, jaw and gaze; hand landmarks -> finger angles; the rig joints they drive.

The perception adapters are in :mod:`engine.perception` (``face_landmarker``, ``hand_landmarker``,
``crops``); the live stage that schedules them is :mod:`streaming.face_hands_stage`.
"""
