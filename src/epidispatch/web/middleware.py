from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _


class ChineseFirstLocaleMiddleware:
    """Simplified Chinese unless the user picked another language.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: county
    office PCs often run English-locale browsers, and the platform is Chinese-first.
    The choice made with the language switch (Django's set_language view) is kept in the
    language cookie and honoured here.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every page, export and file this server answers (static
    assets are answered before this by WhiteNoise): they may carry personal data, which a
    shared office PC's browser cache or a proxy must not keep. A response that says it is
    public keeps its own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "public" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True, private=True)
        return response


NUL_MESSAGE = _("The request contains a NUL character, which is never valid input.")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class RejectNulMiddleware:
    """A NUL byte in a path, a query or a form field is refused with 400 before any view runs.

    PostgreSQL cannot store or even compare a string holding NUL, so such input would
    otherwise reach the database and fail there as a server error (500).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._holds_nul(request):
            message = str(NUL_MESSAGE)
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": message}, status=400, json_dumps_params={"ensure_ascii": False}
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _holds_nul(request) -> bool:
        if "\x00" in request.path or _nul_in(request.GET):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        if request.content_type in _FORM_TYPES:
            return _nul_in(request.POST)
        body = request.body
        return b"\x00" in body or b"\\u0000" in body.lower()


def _nul_in(query) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in query.lists()
    )
