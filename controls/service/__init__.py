"""chipgate over HTTP (``chipgate serve``): FastAPI on uvicorn; see ``controls.service.app``."""
from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
