"""Widgets the screens are built from; none of them calls the engine."""
