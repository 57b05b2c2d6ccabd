"""The one HTML skeleton (tiny inline CSS) and its renderer, shared by the OAuth pages and the calendar UI."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template_string

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,Arial,sans-serif;margin:0;background:#f6f8fc;color:#202124}
main{max-width:980px;margin:24px auto;background:#fff;border-radius:8px;padding:24px;box-shadow:0 1px 3px #0002}
h1{font-size:22px;font-weight:500}button{font:inherit;padding:8px 14px;border-radius:4px;border:1px solid #dadce0;
background:#fff;cursor:pointer;margin:4px 0}button.primary{background:#1a73e8;color:#fff;border-color:#1a73e8}
button.account{display:block;width:100%;text-align:left}button.hinted{border-color:#1a73e8}
.card{border:1px solid #dadce0;border-radius:8px;padding:12px;margin-top:16px}label{display:block;margin:6px 0}
ul.scopes{list-style:none;padding:0}ul.scopes li{padding:8px 0;border-bottom:1px solid #eee}
table.week{width:100%;border-collapse:collapse;table-layout:fixed}table.week td,table.week th{border:1px solid #e0e0e0;
vertical-align:top;padding:4px;font-size:13px}.ev{background:#e8f0fe;border-radius:4px;padding:3px;margin:3px 0}
.ev.allday{background:#fce8b2}.ev.cancelled{text-decoration:line-through;opacity:.6}.muted{color:#5f6368}
input,select,textarea{font:inherit;padding:4px}nav a{margin-right:10px}.error{color:#c5221f}
</style></head><body><main>
%%BODY%%
</main></body></html>"""


def page(body: str, title: str, status: int = 200, **ctx: Any) -> Response:
    """Render `body` (a Jinja snippet) inside PAGE, as an HTML response."""
    return Response(render_template_string(PAGE.replace("%%BODY%%", body), title=title, **ctx),
                    status=status, mimetype="text/html")
