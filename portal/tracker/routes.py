from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("tracker", __name__)


@bp.route("/projects")
@login_required
def projects():
    return render_template("tracker/projects.html")
