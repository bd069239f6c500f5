"""The one call through which a write moves the live figures: `figures_track`.

The live figures (`epidispatch.figures`) count residents and their doses, so that app sits
above the apps that write them (`registry`, `vaccination`) and those cannot import it.
They call `figures_track` here instead, and the figures app plugs in the engine that
answers it when Django starts (`FiguresConfig.ready`): the dependency points downwards
both ways, as the layers in docs/architecture.md require.
"""

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol


class Tracked(Protocol):
    """What the block of `figures_track` is handed."""

    def add_new(self, resident_ids: Iterable[int]) -> None:
        """Count residents created inside the block (they had no figures before it)."""


class Engine(Protocol):
    def __call__(
        self, resident_ids: Iterable[int], *, adds_doses: bool = False
    ) -> AbstractContextManager[Tracked]: ...


_engine: Engine | None = None


def figures_engine_install(engine: Engine) -> None:
    global _engine
    _engine = engine


def figures_track(
    resident_ids: Iterable[int] = (), *, adds_doses: bool = False
) -> AbstractContextManager[Tracked]:
    """Run the block's changes to these existing residents (and their doses), and to any
    residents it creates and names with `add_new`, then move the live figures by exactly
    what the block changed, in the caller's transaction:

        with figures_track([resident.pk]):
            resident.save(update_fields=["status"])

    `adds_doses=True` promises that the block only inserts doses of these residents: no
    dose of theirs changes or goes, nor their birth date, grid or status (beyond a
    refusal ending, which the figures count alike). A large block is then counted from
    the added doses alone, once, instead of every resident before and after.

    The residents' rows stay locked until the transaction ends."""
    if _engine is None:
        raise RuntimeError("The live figures app (epidispatch.figures) is not installed.")
    return _engine(resident_ids, adds_doses=adds_doses)
