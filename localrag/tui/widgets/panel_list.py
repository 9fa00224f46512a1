"""The option list the side panels are made of."""

from __future__ import annotations

from textual.widgets import OptionList


class PanelList(OptionList):
    """An option list that highlights its first choice when focused with none highlighted: a panel is filled
    anew after each answer, which leaves nothing highlighted, and Enter would then do nothing."""

    def on_focus(self) -> None:
        if self.highlighted is None:
            self.action_first()
