"""The /docs page without the internet: Swagger UI's files come from the swagger-ui-bundle
package and are served by the server itself (FastAPI's default page loads them from a CDN).

The bundled Swagger UI (4.x) reads OpenAPI 3.0, so the schema is given as 3.0: the two
constructs of FastAPI's 3.1 schema it would misread are rewritten (an upload's
contentMediaType -> format: binary, so the page shows a file picker; `anyOf [X, null]` ->
X with nullable: true).
"""
from __future__ import annotations

from engine.errors import UserError
from engine.i18n import _

ASSETS = "/docs-assets"


def swagger_folder() -> str:
    try:
        import swagger_ui_bundle
    except ImportError:
        raise UserError(_("The server's offline API page needs the 'swagger-ui-bundle' "
                          "package: pip install swagger-ui-bundle")) from None
    return str(swagger_ui_bundle.swagger_ui_path)


def as_openapi_30(node):
    """FastAPI's OpenAPI 3.1 schema (a JSON tree) -> the 3.0 form Swagger UI 4 reads."""
    if isinstance(node, list):
        return [as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_openapi_30(value) for key, value in node.items()}
    if node.get("contentMediaType") == "application/octet-stream":
        node.pop("contentMediaType")
        node["format"] = "binary"
    options = node.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        node.pop("anyOf")
        node.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        node["nullable"] = True
    return node


def add_offline_docs(app, title: str) -> None:
    """Mount Swagger UI's files and the /docs page on `app` (made with docs_url=None)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.openapi.utils import get_openapi
    from fastapi.staticfiles import StaticFiles

    app.mount(ASSETS, StaticFiles(directory=swagger_folder()), name="docs-assets")

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schema = as_openapi_30(schema)
            schema["openapi"] = "3.0.3"
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")


__all__ = ["ASSETS", "add_offline_docs", "as_openapi_30", "swagger_folder"]
