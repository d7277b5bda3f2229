"""Rig authoring: the parametric builder, its simple skin, and the six bundled rig designs."""
