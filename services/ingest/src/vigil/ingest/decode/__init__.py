"""Decoders: one per device payload format, each ``bytes -> Decoded`` or ``DecodeError``."""
