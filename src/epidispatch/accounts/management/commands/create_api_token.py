from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.accounts.models import User
from epidispatch.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user; the token is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="script", help="what the token is for")

    def handle(self, *args, username: str, name: str, **options):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(_("No active user %(username)s.") % {"username": username}) from None
        _record, token = api_token_create(user=user, name=name)
        self.stdout.write(token)
