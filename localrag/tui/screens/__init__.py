"""Screens of the app: the four modes (chat, library, models, settings) and the modals."""
