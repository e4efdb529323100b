"""The carers' and safeguarding staff's web dashboard (Flask app factory in dashboard.app)."""
