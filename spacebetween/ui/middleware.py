"""Response headers for every page: a strict Content-Security-Policy (no inline script or style),
Permissions-Policy, Cross-Origin-Resource-Policy, and no caching of pages for signed-in users.
SecurityMiddleware adds HSTS, nosniff, Referrer-Policy and COOP (settings.SECURE_*)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# ASVS 5.0 3.4.3, 3.4.6. Inline SVG markup is allowed; inline <script>, <style> and style="" are not.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
# No page needs the camera, microphone, location, payment or other device features.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
# ASVS 5.0 14.2.2, 14.3.2: nothing a signed-in user sees is kept by browsers or proxies.
NO_STORE = "no-store"


def security_headers(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = NO_STORE
        return response

    return middleware
