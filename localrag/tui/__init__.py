"""The Textual terminal app. Nothing outside this package imports it: the core stays UI-free."""
