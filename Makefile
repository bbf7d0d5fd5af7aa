# Órdenes del taller. Las dos principales, las del README:
#   make book   construye el sitio en _build/html/
#   make test   ejecuta todas las pruebas (cuadernos con nbval, sitio, datos...)
# Cada objetivo crea el entorno virtual si falta y no repite trabajo hecho.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Marca de instalación: se rehace solo cuando cambia requirements.txt.
STAMP  := $(VENV)/.requirements-instalados

.DEFAULT_GOAL := help
.PHONY: help book test lab datasets bench enlaces clean sistema docker-build docker-run

help:
	@echo "Objetivos disponibles:"
	@echo "  make book      construye el sitio estático en _build/html/"
	@echo "  make test      ejecuta todas las pruebas"
	@echo "  make lab       abre JupyterLab con los cuadernos"
	@echo "  make datasets  descarga y verifica todos los conjuntos de datos"
	@echo "  make bench     mide tiempos y memoria (no es una prueba)"
	@echo "  make enlaces   lista los enlaces externos en _build/enlaces-externos.txt (no los visita)"
	@echo "  make clean     borra el sitio construido y las cachés"
	@echo "  make docker-build  construye la imagen Docker (entorno, Java y datos)"
	@echo "  make docker-run    abre JupyterLab en Docker en http://127.0.0.1:8888"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Sitio listo: abra $(CURDIR)/_build/html/index.html"

datasets: $(STAMP)
	$(BIN)/python -m taller descargar --todos

test: $(STAMP) sistema datasets
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) notebooks/01_numpy.ipynb

bench: $(STAMP) datasets
	$(BIN)/python bench/run.py

enlaces: book
	$(BIN)/python tests/enlaces.py

# Programas del sistema que las pruebas necesitan y pip no instala.
sistema:
	@falta=""; \
	command -v java >/dev/null || falta="$$falta openjdk-17-jre-headless"; \
	command -v chromium >/dev/null || falta="$$falta chromium"; \
	command -v hunspell >/dev/null || falta="$$falta hunspell"; \
	test -f /usr/share/hunspell/es_ES.dic || falta="$$falta hunspell-es"; \
	test -f /usr/share/hunspell/en_US.dic || falta="$$falta hunspell-en-us"; \
	if [ -n "$$falta" ]; then \
	  echo "Faltan programas del sistema para las pruebas:$$falta"; \
	  echo "Instálelos con: sudo apt-get install$$falta"; \
	  exit 1; \
	fi

clean:
	rm -rf _build .pytest_cache test-artifacts
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

# Imagen Docker del taller (docker/Dockerfile); véase README.md, «2. Docker».
COMPOSE := docker compose -f docker/compose.yaml

docker-build:
	TALLER_VERSION="$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" $(COMPOSE) build

docker-run:
	@mkdir -p trabajo
	$(COMPOSE) up --detach --wait
	@echo "JupyterLab está en marcha. Ábralo con este enlace (lleva el token de acceso):"
	@$(COMPOSE) logs taller | grep -o 'http://127.0.0.1:8888/lab?token=[0-9a-f]*' | tail -n 1
	@echo "Su trabajo se guarda en trabajo/. Para parar el contenedor: $(COMPOSE) down"
