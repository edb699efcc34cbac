# The mock alone, for a machine without a Python setup:
#   docker build -t wacr-mock . && docker run --rm -p 8080:8080 wacr-mock
# Inside the container the mock binds 0.0.0.0, so the control API asks for an admin secret
# (printed at start; choose one with -e WACR_ADMIN_SECRET=...). Extra options go after the image
# name, e.g. `docker run --rm -p 8080:8080 wacr-mock --cors-origin http://localhost:5173`.
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY mockserver ./mockserver
COPY contract_tests ./contract_tests
COPY docs/control-api.yaml ./docs/control-api.yaml
COPY openapi.yaml ./openapi.yaml
RUN python -m pip install --no-cache-dir -c constraints.txt . && useradd --system mock
USER mock
EXPOSE 8080
ENTRYPOINT ["wacr-mock", "--host", "0.0.0.0", "--port", "8080"]
