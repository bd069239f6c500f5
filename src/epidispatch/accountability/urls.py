"""Pages of the reward–penalty record (约谈 · 通报 · 问责 · 表扬)."""

from django.urls import path

from . import views

app_name = "accountability"

urlpatterns = [
    path("", views.cases, name="cases"),
    path("new/", views.case_new, name="case_new"),
    path("<int:pk>/", views.case, name="case"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/pledge/", views.pledge, name="pledge"),
]
