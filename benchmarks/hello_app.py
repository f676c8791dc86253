"""The baseline for benchmarks/http_pages.py: the smallest Flask page, served the same way."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
