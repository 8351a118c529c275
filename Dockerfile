# Production image: one image, three roles (web, worker, beat) chosen by the compose command.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OPINION_OPS_VAR_DIR=/app/var
WORKDIR /app
# WeasyPrint (report PDFs) draws text with Pango; the CJK fonts are the ones the PDFs embed.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic runs with production storage (hashed, compressed files); these values exist only
# for this build step and are never used at run time.
RUN OPINION_OPS_ENV=production ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://127.0.0.1:6379/0 SECRET_KEY=build-step-only-collectstatic-placeholder-value-0000000000 \
    python manage.py collectstatic --noinput -v0 \
    && useradd --system --home /app opinionops && mkdir -p /app/var && chown -R opinionops /app/var
USER opinionops
EXPOSE 8000
CMD ["gunicorn", "opinion_ops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
