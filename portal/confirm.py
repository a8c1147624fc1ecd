"""Confirmation before a destructive action, with or without JavaScript.

A destroying button (`post_button(..., confirm="...")`) posts its form. With
JavaScript, static/confirm.js asks first and adds `confirmed=yes`; without it,
the view answers the unconfirmed post with a page that asks, whose button
posts again with `confirmed=yes`. Either way nothing is destroyed until
someone said yes.
"""

from __future__ import annotations

from flask import render_template, request
from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """The confirmation page's form: only its CSRF token (and confirmed=yes, in the template)."""


def confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def ask_to_confirm(question: str, *, button: str, cancel_url: str, detail: str | None = None):
    """The page that asks `question`; its button repeats the post to this same address, confirmed."""
    return render_template(
        "confirm.html",
        question=question,
        detail=detail,
        button=button,
        action=request.path,
        cancel_url=cancel_url,
        form=ConfirmForm(),
    )
