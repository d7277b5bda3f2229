"""Measuring commands that drive the whole live path: ``eval-live`` (offscreen renders), ``bench live``.

They sit above ``streaming`` (``tools -> streaming -> engine``) and never import ``app``.
"""
