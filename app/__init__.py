"""The Rungs application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as rungs_config
from app import request_input
from app.database import configure_engine
from app.extensions import csrf, db, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None, environ=None) -> Flask:
    """Build an app from RUNGS_ENV and the environment; `overrides` win (tests use them)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "app" / "static"),
    )
    app.config.from_mapping(rungs_config.load(environ, overrides))
    app.url_map.converters["int"] = request_input.DatabaseIntConverter  # before any route
    app.request_class = request_input.CheckedRequest
    if app.config["TRUSTED_PROXIES"]:
        # Behind proxies, the client is the address the nearest trusted proxy saw; the headers
        # are ignored without this, as anyone could send them.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    from app import access, api, auth, errors, layout, policy, security
    from app.attachments.views import bp as attachments_bp
    from app.backups.views import bp as backups_bp
    from app.cli import register_cli
    from app.conversation.views import bp as conversation_bp
    from app.delegation.views import bp as delegation_bp
    from app.evidence.views import bp as evidence_bp
    from app.feedback.views import bp as feedback_bp
    from app.frameworks import editor, history, views
    from app.frameworks import pdf as framework_pdf
    from app.goals.views import bp as goals_bp
    from app.growth.views import bp as growth_bp
    from app.jobs.views import bp as jobs_bp
    from app.main.views import bp as main_bp
    from app.messages.views import bp as messages_bp
    from app.notifications.views import bp as notifications_bp
    from app.oneonones.views import bp as oneonones_bp
    from app.packets.views import bp as packets_bp
    from app.people.views import bp as people_bp
    from app.personal_data.views import bp as personal_data_bp
    from app.promotions import assessments, calibration, cycles, due_dates, records
    from app.services import notifications
    from app.services.messages import slack_announcements
    from app.settings.views import bp as settings_bp
    from app.slack.views import bp as slack_bp
    from app.sso.views import bp as sso_bp
    from app.team.views import bp as team_bp
    from app.todo.views import bp as todo_bp
    from app.tokens.views import bp as tokens_bp
    from app.two_factor import admin as two_factor_admin
    from app.two_factor import gate as two_factor_gate
    from app.two_factor import sign_in as two_factor_sign_in
    from app.two_factor import views as two_factor_views

    auth.init_login_manager(login_manager)
    notifications.subscribe()  # app.services.events receivers (again: no-op)
    slack_announcements.subscribe()
    api.init_app(app)  # its token sign-in runs first: refusals under /api/v1/ are counted too
    app.before_request(request_input.check_request)
    app.before_request(access.enforce)
    app.before_request(two_factor_gate.require_setup)
    app.after_request(security.set_headers)
    app.after_request(layout.record_help)
    app.register_blueprint(auth.bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(backups_bp)
    app.register_blueprint(todo_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(framework_pdf.bp)
    app.register_blueprint(growth_bp)
    app.register_blueprint(conversation_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(personal_data_bp)
    for promotions_bp in (cycles.bp, assessments.bp, calibration.bp, records.bp, due_dates.bp):
        app.register_blueprint(promotions_bp)
    app.register_blueprint(packets_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(oneonones_bp)
    app.register_blueprint(delegation_bp)
    app.register_blueprint(goals_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(slack_bp)
    for two_factor_bp in (two_factor_views.bp, two_factor_sign_in.bp, two_factor_admin.bp):
        app.register_blueprint(two_factor_bp)
    app.register_blueprint(sso_bp)
    errors.register(app)
    register_cli(app)
    app.jinja_env.globals["can"] = policy.can
    app.context_processor(layout.inject)
    return app
