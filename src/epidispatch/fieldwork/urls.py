from django.urls import path

from . import views

app_name = "fieldwork"

urlpatterns = [
    path("", views.home, name="home"),
    path("grids/<str:code>/", views.grid, name="grid"),
    path("residents/<int:pk>/visit/", views.visit_new, name="visit_new"),
    path("residents/<int:pk>/phone/", views.phone, name="phone"),
    path("visits/<int:pk>/proof/", views.proof, name="proof"),
    path("checkpoint/", views.checkpoint, name="checkpoint"),
    path("follow-ups/<int:pk>/", views.follow_up, name="follow_up"),
]
