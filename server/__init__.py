"""The HTTP service: FastAPI app, job queue, storage, exports."""
