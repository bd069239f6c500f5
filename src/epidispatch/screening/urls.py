from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("", views.home, name="home"),
    path("rounds/<int:pk>/", views.round_dashboard, name="round"),
    path("rounds/<int:pk>/collect/", views.collect, name="collect"),
    path("rounds/<int:pk>/tubes/", views.tubes, name="tubes"),
    path("rounds/<int:pk>/units/<str:code>/not-sampled/", views.not_sampled, name="not_sampled"),
    path("rounds/<int:pk>/units/<str:code>/retests/", views.retests, name="retests"),
    path("groups/", views.groups, name="groups"),
    path("groups/<int:pk>/", views.group_detail, name="group"),
]
