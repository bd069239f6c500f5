from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiguresConfig(AppConfig):
    name = "epidispatch.figures"
    verbose_name = _("Live figures")

    def ready(self):
        # The writing apps sit below this one and move the figures through
        # `core.live.figures_track`; this is where that call is answered.
        from epidispatch.core import live

        from .rollups import rollups_track

        live.figures_engine_install(rollups_track)
