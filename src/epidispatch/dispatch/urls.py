"""Pages of the daily dispatch: dashboard, rankings, targets, accountability."""

urlpatterns = []
