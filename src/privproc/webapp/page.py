"""The one HTML page, rendered on the server (every value escaped; no template engine).

The accessible names are the ones DESIGN.md and issue 17 fix, so tools and screen readers
find them: "Summarize unread", "Summary", "Message", "Suggest", "Suggestions",
"Advanced Chat Privacy", "Verification", "Requests". The page loads one script and one
style sheet from the package (``/static/``); the per-launch token rides in a ``<meta>``.
"""

from __future__ import annotations

from html import escape

from privproc.webapp.chats import StoredChat
from privproc.workloads.rewrite import TONES

__all__ = ["BLOCKED_REASON", "render_page"]

BLOCKED_REASON = (
    "Advanced Chat Privacy is on for this chat: the AI features are off and nothing is sent."
)


def _chat_list(chats: list[StoredChat], current: str) -> str:
    items = []
    for stored in chats:
        unread = len(stored.chat.unread)
        badge = (
            f' <span class="badge" aria-label="{unread} unread">{unread}</span>' if unread else ""
        )
        here = ' aria-current="page"' if stored.id == current else ""
        shield = ' <span class="shield">private</span>' * stored.chat.ai_blocked
        items.append(
            f'<li><a href="/?chat={escape(stored.id)}"{here}>{escape(stored.chat.chat)}</a>'
            f"{badge}{shield}</li>"
        )
    return "\n".join(items)


def _messages(stored: StoredChat) -> str:
    rows = []
    for i, message in enumerate(stored.chat.messages):
        cls = "msg unread" if message.unread else "msg"
        mark = ' <span class="new">unread</span>' if message.unread else ""
        rows.append(
            f'<li id="m-{i}" class="{cls}"><span class="who">{escape(message.sender)}</span>'
            f' <time datetime="{escape(message.time.isoformat())}">'
            f"{escape(message.time.strftime('%d %b %H:%M'))}</time>{mark}"
            f'<p lang="{escape(stored.chat.language)}">{escape(message.text)}</p></li>'
        )
    return "\n".join(rows)


def render_page(chats: list[StoredChat], stored: StoredChat, token: str) -> str:
    """The whole page, with ``stored`` open."""
    blocked = stored.chat.ai_blocked
    off = " disabled" if blocked else ""
    checked = " checked" if blocked else ""
    tones = "".join(
        f'<label><input type="checkbox" name="tone" value="{t}"{" checked" * (t == "friendly")}>'
        f" {t}</label>"
        for t in TONES
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="privproc-token" content="{escape(token)}">
<title>privproc messenger</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body data-chat="{escape(stored.id)}">
<header><h1>privproc messenger</h1>
<button type="button" id="verify-button" aria-expanded="false"
 aria-controls="verification">Verification</button></header>
<nav aria-label="Chats"><ul id="chats">
{_chat_list(chats, stored.id)}
</ul></nav>
<main>
<h2>{escape(stored.chat.chat)}</h2>
<label class="switch"><input type="checkbox" role="switch" id="privacy"{checked}>
Advanced Chat Privacy</label>
<p id="ai-reason" class="reason"{"" if blocked else " hidden"}>{BLOCKED_REASON}</p>
<ol id="messages" aria-label="Messages">
{_messages(stored)}
</ol>
<p><button type="button" id="summarize" class="ai"{off}>Summarize unread</button></p>
<section id="summary" aria-label="Summary" aria-live="polite"></section>
<p id="error" role="alert" hidden></p>
<form id="compose" action="#">
<label for="draft">Message</label>
<textarea id="draft" rows="3"></textarea>
<fieldset><legend>Tone</legend>{tones}</fieldset>
<button type="button" id="suggest" class="ai"{off}>Suggest</button>
</form>
<section id="suggestions" aria-label="Suggestions" aria-live="polite"></section>
</main>
<aside>
<section id="verification" aria-label="Verification" hidden></section>
<section id="requests" aria-label="Requests"><h2>Requests</h2>
<p class="hint">What this device sent, where, and when (kept on this device only).</p>
<table><thead><tr><th>time</th><th>feature</th><th>bytes</th><th>nodes named</th>
<th>answered</th><th>release</th></tr></thead><tbody id="request-rows"></tbody></table>
</section>
</aside>
</body>
</html>
"""
