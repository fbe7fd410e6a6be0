"""The smallest Flask app, served with the same gunicorn settings, as the scan-page baseline."""
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Xin chào"
