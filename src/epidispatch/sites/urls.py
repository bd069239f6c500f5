from django.urls import path

from . import views

app_name = "sites"

urlpatterns = [
    path("", views.public_index, name="public"),
    path("load/", views.load, name="load"),
    path("<str:code>/book/", views.book, name="book"),
    path("<str:code>/desk/", views.desk, name="desk"),
]
