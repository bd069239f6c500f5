from django.urls import path

from . import views

app_name = "control"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/<str:code>/", views.board, name="board"),
    path("units/<str:code>/board.xlsx", views.board_export, name="board_xlsx"),
    path("units/<str:code>/today/", views.today, name="today"),
    path("units/<str:code>/plan/", views.plan_check, name="plan_check"),
    path("units/<str:code>/areas/", views.areas, name="areas"),
    path("units/<str:code>/areas/new/", views.area_new, name="area_new"),
    path("areas/<int:pk>/", views.area_edit, name="area"),
    path("areas/<int:pk>/lift/", views.area_lift_view, name="area_lift"),
    path("cases/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("cases/<int:pk>/test/", views.test, name="test"),
    path("cases/<int:pk>/release/", views.release, name="release"),
    path("cases/<int:pk>/transfer/", views.transfer, name="transfer"),
    path("cases/<int:pk>/extend/", views.extend, name="extend"),
    path("persons/new/", views.key_person_new, name="key_person_new"),
    path("positives/new/", views.positive_new, name="positive_new"),
    path("positives/<int:pk>/", views.positive, name="positive"),
    path("positives/<int:pk>/steps/<str:step>/", views.positive_step, name="positive_step"),
]
