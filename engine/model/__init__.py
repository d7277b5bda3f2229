"""The learned core: GL-GMHA, causal temporal attention, P2R and V2P, sessions, weights (DESIGN §4).

Public names are re-exported here; see each module for shapes, units and frames.
"""

from engine.model.config import P2RConfig, V2PConfig, config_from_json, config_to_json
from engine.model.names import NAME_FEATURES, encode_names, name_features
from engine.model.p2r import P2RModel
from engine.model.rig_tensors import RigTensors, build_rig_tensors, collate_rigs, normalize_positions
from engine.model.session import P2RSession, V2PSession
from engine.model.v2p import V2PModel
from engine.model.weights import WeightsError, load_weights, save_weights

__all__ = [
    "NAME_FEATURES",
    "P2RConfig",
    "P2RModel",
    "P2RSession",
    "RigTensors",
    "V2PConfig",
    "V2PModel",
    "V2PSession",
    "WeightsError",
    "build_rig_tensors",
    "collate_rigs",
    "config_from_json",
    "config_to_json",
    "encode_names",
    "load_weights",
    "name_features",
    "normalize_positions",
    "save_weights",
]
