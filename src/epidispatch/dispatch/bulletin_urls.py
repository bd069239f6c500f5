"""The 日通报 bulletin pages and downloads."""

from django.urls import path

from . import bulletin_views

urlpatterns = [
    path("", bulletin_views.bulletin_list, name="bulletin_list"),
    path("<int:number>/", bulletin_views.bulletin_detail, name="bulletin_detail"),
    path("<int:number>.docx", bulletin_views.bulletin_docx, name="bulletin_docx"),
    path("<int:number>.xlsx", bulletin_views.bulletin_xlsx, name="bulletin_xlsx"),
]
