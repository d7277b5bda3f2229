"""Retargeting: humanoid bone names, chain finding, the editable retarget map and the retargeter."""

from engine.retarget.chains import Chain, ChainKind, find_chains, rig_forward
from engine.retarget.humanoid_names import HumanoidMatch, check_topology, find_humanoid_bones
from engine.retarget.mapping import ChainMap, RetargetMap, RetargetMapError, load_map, map_path_for, save_map, suggest_map
from engine.retarget.retargeter import Retargeter

__all__ = [
    "Chain", "ChainKind", "find_chains", "rig_forward",
    "HumanoidMatch", "check_topology", "find_humanoid_bones",
    "ChainMap", "RetargetMap", "RetargetMapError", "load_map", "map_path_for", "save_map", "suggest_map",
    "Retargeter",
]
