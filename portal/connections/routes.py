from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("connections", __name__, url_prefix="/connections")


@bp.route("/")
@login_required
def index():
    return render_template("connections/index.html")
