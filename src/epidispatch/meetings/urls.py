"""Pages of the dispatch meetings (调度会议 · 汇报 · 督办)."""

from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.meeting_new, name="new"),
    path("<int:pk>/", views.meeting, name="meeting"),
    path("<int:pk>/decisions/", views.decision_new, name="decision_new"),
    path("<int:pk>/call-in/", views.call_in, name="call_in"),
    path("<int:pk>/pack/", views.pack, name="pack"),
    path("<int:pk>/pack.docx", views.pack_docx, name="pack_docx"),
    path("<int:pk>/minutes.docx", views.minutes_docx, name="minutes_docx"),
    path("items/", views.items, name="items"),
    path("items/open.xlsx", views.items_xlsx, name="items_xlsx"),
    path("items/<int:pk>/", views.item, name="item"),
    path("items/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("responsibility/", views.leaders, name="leaders"),
]
