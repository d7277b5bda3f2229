"""Positions -> local rotations solvers behind one interface: the analytic IK and the learned P2R."""
