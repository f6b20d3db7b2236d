"""The API's documentation pages, Swagger UI and ReDoc, each with the narrowest addition to the
site's Content-Security-Policy that lets it render without a violation (the browser test loads
both under it).

No inline script or style of ours: Swagger UI's set-up script comes from its own URL (the split
view) and drf-spectacular's inline styles moved to static files (templates/api/).
"""

from csp.constants import SELF
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

# ReDoc 2.5 (drf-spectacular-sidecar) writes its styles with styled-components: it inserts empty
# <style> elements and fills them through the CSSOM, which CSP does not police, plus one <style>
# with text. Their hashes let exactly those in; a nonce cannot, as ReDoc reads it from an
# attribute the browser hides. A new ReDoc may change them: the browser test then fails.
REDOC_EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
REDOC_STYLE = "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"


# Swagger UI's stylesheet draws its icons as data: SVG images.
@method_decorator(csp_update({"img-src": [SELF, "data:"]}), name="get")
class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


# ReDoc's icons are data: SVG images and its footer shows Redocly's logo from their CDN (that one
# file only); its search runs in a Worker made from a blob: URL.
@method_decorator(
    csp_update(
        {
            "style-src": [SELF, REDOC_EMPTY_STYLE, REDOC_STYLE],
            "img-src": [SELF, "data:", "https://cdn.redoc.ly/redoc/logo-mini.svg"],
            "worker-src": ["blob:"],
        }
    ),
    name="get",
)
class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"
