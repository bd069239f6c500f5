"""The 日通报 bulletin pages and downloads."""

urlpatterns = []
