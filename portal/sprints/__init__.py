"""The Sprints pages: the running sprints across a person's connections, and any sprint's charts."""

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.charts import UNIT_NAMES, number

    from .routes import bp

    app.register_blueprint(bp)
    app.add_template_filter(number, "chart_number")
    app.jinja_env.globals["unit_names"] = UNIT_NAMES
