from django.urls import path

from . import views

app_name = "sites"

urlpatterns = [
    path("", views.public_index, name="public"),
    path("load/", views.load, name="load"),
    path("cancel/", views.cancel_booking, name="cancel"),
    path("training/", views.training_index, name="training_index"),
    path("training/<int:pk>/", views.training, name="training"),
    path("<str:code>/book/", views.book, name="book"),
    path("<str:code>/desk/", views.desk, name="desk"),
    path("<str:code>/desk/bookings/<int:pk>/", views.appointment_act, name="appointment"),
    path("<str:code>/roster/", views.roster, name="roster"),
    path("<str:code>/equipment/", views.equipment, name="equipment"),
]
