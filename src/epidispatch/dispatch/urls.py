"""Pages of the daily dispatch: dashboard, rankings, targets, accountability."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units/<str:code>/", views.dashboard_unit, name="dashboard_unit"),
    path("rankings/", views.rankings, name="rankings"),
    re_path(
        r"^snapshots/(?P<day>\d{4}-\d{2}-\d{2})/$", views.snapshot_detail, name="snapshot_detail"
    ),
    path("cutoff/", views.cutoff, name="cutoff"),
    path("candidates/<int:pk>/decision/", views.candidate_decision, name="candidate_decision"),
    path("targets/", views.targets, name="targets"),
]
