from django.urls import path

from . import views

app_name = "supply"

urlpatterns = [
    path("", views.home, name="home"),
    path("lots/<int:pk>/", views.lot, name="lot"),
    path("sites/<str:code>/scan/", views.scan, name="scan"),
    path("demand/", views.demand, name="demand"),
    path("aefi/", views.aefi_list, name="aefi_list"),
    path("aefi/<int:pk>/", views.aefi_detail, name="aefi_detail"),
]
