"""The ``provenance`` command line: flags in, SDK calls, rendered results out.

Installed as ``provenance.cli`` (never as a top-level ``cli`` module). Command modules import
the SDK inside their callbacks so that ``provenance --help`` stays fast (no torch, no c2pa).
"""
