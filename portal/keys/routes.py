from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("keys", __name__, url_prefix="/keys")


@bp.route("/")
@login_required
def index():
    return render_template("keys/index.html")
