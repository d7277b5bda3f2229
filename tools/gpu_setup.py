"""wgpu/pygfx set-up that must happen before the first renderer is created."""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)

__all__ = ["configure_wgpu"]


@functools.cache  # once per process: wgpu refuses to reconfigure a device it has created
def configure_wgpu() -> dict:
    """Pick wgpu features that work on this adapter and return the adapter info.

    Without Vulkan, wgpu falls back to OpenGL (e.g. Mesa llvmpipe), where pygfx must not ask for
    float32-filterable textures (DESIGN §8). Later calls return the first answer.
    """
    import pygfx as gfx
    import wgpu

    info = dict(wgpu.gpu.request_adapter_sync().info)
    if str(info.get("backend_type", "")).lower() == "opengl":
        gfx.renderers.wgpu.enable_wgpu_features("!float32-filterable")
    logger.info("wgpu adapter: %s (%s, %s)", info.get("device"), info.get("backend_type"), info.get("adapter_type"))
    return info
