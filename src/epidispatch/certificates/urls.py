from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("residents/<int:pk>/", views.resident_certificate, name="resident"),
    path("<slug:serial>/print/", views.certificate_print, name="print"),
    path("check/", views.checkpoint, name="checkpoint"),
    path("check/record/", views.checkpoint_record, name="checkpoint_record"),
    path("proofs/", views.proof_list, name="proofs"),
    path("proofs/<int:visit_pk>/", views.proof_review, name="proof_review"),
]
