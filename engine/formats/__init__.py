"""Rig and motion file formats: BVH, glTF / GLB, VRM, the one loader (:mod:`rigio`), summaries, resampling."""
