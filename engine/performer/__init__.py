"""The canonical performer: the fixed humanoid skeleton that live perception produces.

:mod:`.canonical` defines it (joints, chains, positions from landmarks); :mod:`.from_mocap` builds
its positions from humanoid motion capture. The canonical names are re-exported here.
"""

from engine.performer import canonical as _canonical
from engine.performer.canonical import *  # noqa: F403 (the public names, listed in its __all__)

__all__ = list(_canonical.__all__)
