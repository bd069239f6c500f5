"""Pages of inspections and rectification (督导检查 · 整改)."""

from django.urls import path

from . import views

app_name = "inspection"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/<str:code>/places/", views.places, name="places"),
    path("units/<str:code>/report/", views.report, name="report"),
    path("units/<str:code>/report.docx", views.report_docx, name="report_docx"),
    path("units/<str:code>/report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("places/<int:pk>/", views.place, name="place"),
    path("places/<int:pk>/inspect/", views.inspect, name="inspect"),
    path("problems/<int:pk>/", views.problem, name="problem"),
    path("problems/<int:pk>/start/", views.start, name="start"),
    path("problems/<int:pk>/rectify/", views.rectify, name="rectify"),
    path("problems/<int:pk>/refer/", views.refer, name="refer"),
    path("rectifications/<int:pk>/review/", views.review, name="review"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
    path("checklists/", views.checklists, name="checklists"),
]
